-- This device's requests per UTC hour to a CRM that counts a daily budget
-- (issue 15: Salesforce, whose `daily_request_cap` caps a device's share),
-- so a restart goes on counting the rolling day instead of starting at
-- zero. `hour` is the hour's start in Unix seconds.
CREATE TABLE api_device_usage (
    endpoint TEXT NOT NULL,
    hour INTEGER NOT NULL,
    requests INTEGER NOT NULL CHECK (requests >= 0),
    PRIMARY KEY (endpoint, hour)
) WITHOUT ROWID;
