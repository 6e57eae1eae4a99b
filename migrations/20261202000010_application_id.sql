-- Marks the file as Outpost's ("OUTP"), so a later version (and this one,
-- see crates/outpost-core/src/store/probe.rs) can tell it from another
-- application's SQLite database by its header alone. Databases made before
-- this migration are told apart by their migrations table.
PRAGMA application_id = 1330992208;
