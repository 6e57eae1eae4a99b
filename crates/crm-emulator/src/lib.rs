//! Placeholder: the CRM emulator (issue 3).
