-- Claiming walks pending messages in delivery order and stops at the batch
-- size; without this index SQLite sorted every pending row first, which made
-- each round cost O(queue length) (100 ms per round with 30,000 queued).
CREATE INDEX outbox_state_order ON outbox (state, id);
