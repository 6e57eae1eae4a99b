-- Customers created at the till are stored without their search-index
-- entries: each FTS5 insert writes a new index segment per transaction, which
-- made up most of a create's latency and all of its tail. Their rows wait
-- here until a background task indexes them in batches (store/indexer.rs);
-- until then the search matches them by scanning this short list.
CREATE TABLE search_pending (
    seq INTEGER PRIMARY KEY
);
