-- Whether the CRM's deletions reach this device (issue 16): the last
-- complete pull found the CRM lists them (1) or cannot (0: BottleCRM,
-- Dynamics with change tracking off on the contact table); NULL before
-- a pull got that far. The Sync screen says when deleted customers stay.
ALTER TABLE pull_state ADD COLUMN deletions_listed INTEGER;
