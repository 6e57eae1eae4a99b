-- A CRM's API budget as the connector last read it (issue 15: Salesforce's
-- daily request budget from Sforce-Limit-Info and this device's share),
-- shown on the Sync screen and by `outpost status`. JSON; NULL for CRMs
-- that publish no budget.
ALTER TABLE endpoint_sync ADD COLUMN api_budget TEXT;
