//! One module per connector, each implementing [`Crm`](crate::Crm) for its
//! server.

pub mod bottlecrm;
pub mod dynamics;
pub mod emulated;
pub mod generic_rest;
pub mod hubspot;
pub mod salesforce;
pub mod zoho;
