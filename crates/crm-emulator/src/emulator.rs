//! The public handle: start an emulator, drive its faults and inspect its state.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::api::dynamics::{model as dv_model, DynRuntime, KeyStatus};
use crate::api::hubspot::model::ObjectType;
use crate::api::hubspot::objects;
use crate::api::rest::model::{self as rest_model, CustomField, Customer, CustomerFields};
use crate::api::salesforce::model::{self as sf_model, FieldDef as SfFieldDef, SObject, SfRecord};
use crate::api::salesforce::SfRuntime;
use crate::api::zoho::admin as zoho_admin;
use crate::config::{Config, RateLimit};
use crate::crm_user;
use crate::error::Error;
use crate::faults::Faults;
use crate::persist::Writer;
use crate::server::HttpServer;
use crate::state::{Api, Shared};
use crate::stats::{RequestLogEntry, StatsSnapshot};
use crate::store::{Store, StoredRecord, REST_FIELD_KIND, REST_KIND};

/// State and CRM server, shared by the handle and the control API.
#[derive(Debug)]
pub(crate) struct Inner {
    pub shared: Arc<Shared>,
    pub crm: HttpServer,
}

/// A running emulator. Dropping it stops both servers (without flushing a
/// state file; call [`Emulator::shutdown`] for that).
#[derive(Debug)]
pub struct Emulator {
    inner: Arc<Inner>,
    control: HttpServer,
}

impl Emulator {
    /// Loads state (if configured), binds both ports and starts serving.
    pub async fn start(config: Config) -> Result<Emulator, Error> {
        let store = match &config.state {
            None => Store::new(config.unique_property.clone()),
            Some(path) => {
                let (writer, rows) = Writer::open(path).await?;
                Store::load(config.unique_property.clone(), writer, rows)?
            }
        };
        let crm_addr = SocketAddr::new(config.bind, config.port);
        let control_addr = SocketAddr::new(config.bind, config.control_port);
        let shared = Arc::new(Shared::new(config, store));
        let crm = HttpServer::start(crm_addr, crate::api::crm_router(shared.clone())).await?;
        let _ = shared.crm_url.set(format!("http://{}", crm.addr()));
        let inner = Arc::new(Inner { shared, crm });
        let control =
            HttpServer::start(control_addr, crate::control::router(inner.clone())).await?;
        tracing::info!(crm = %inner.crm.addr(), control = %control.addr(), "crm emulator listening");
        Ok(Emulator { inner, control })
    }

    pub fn crm_addr(&self) -> SocketAddr {
        self.inner.crm.addr()
    }

    /// Base URL of both CRM APIs, e.g. `http://127.0.0.1:41234`.
    pub fn crm_url(&self) -> String {
        format!("http://{}", self.crm_addr())
    }

    pub fn control_addr(&self) -> SocketAddr {
        self.control.addr()
    }

    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr())
    }

    /// The static bearer token (REST token and HubSpot private-app token).
    pub fn token(&self) -> &str {
        &self.inner.shared.config.token
    }

    pub fn config(&self) -> &Config {
        &self.inner.shared.config
    }

    /// Stops the CRM port: new connections are refused, open ones are reset.
    pub async fn down(&self) {
        self.inner.crm.down().await;
    }

    /// Listens again on the same port, with the same data.
    pub async fn up(&self) -> Result<(), Error> {
        self.inner.crm.up().await
    }

    pub fn is_up(&self) -> bool {
        self.inner.crm.is_up()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.inner.set_faults(faults);
    }

    pub fn faults(&self) -> Faults {
        self.inner.shared.faults().plan().clone()
    }

    pub fn clear_faults(&self) {
        self.inner.shared.faults().clear();
    }

    /// Back to the start state: no records, no faults, zero counters, the
    /// configured rate limits and search lag, and every token restored.
    pub async fn reset(&self) {
        self.inner.reset().await;
    }

    /// Every stored record of both APIs.
    pub fn records(&self) -> Vec<StoredRecord> {
        self.inner.shared.store().records()
    }

    /// Records per Outpost key, every API's together: more than one is a
    /// duplicate (what the exactly-once tests look for).
    pub fn records_per_key(&self) -> HashMap<String, usize> {
        let mut per = HashMap::new();
        for k in self.records().into_iter().filter_map(|r| r.key) {
            *per.entry(k).or_default() += 1;
        }
        per
    }

    /// `PUT /customers/{key}` requests per key: each is one send of a
    /// customer to the generic REST API, answered or not.
    pub fn puts_per_key(&self) -> HashMap<String, usize> {
        let mut per = HashMap::new();
        for r in self.requests() {
            if r.endpoint == "PUT /customers/{key}" {
                let key = r.path.trim_start_matches("/customers/").to_owned();
                *per.entry(key).or_default() += 1;
            }
        }
        per
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.shared.stats.snapshot()
    }

    /// The most recent CRM requests (up to 10,000), oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.inner.shared.stats.log()
    }

    /// Requests to `endpoint` (e.g. `"PUT /customers/{key}"`) answered with `status`.
    pub fn count(&self, endpoint: &str, status: u16) -> u64 {
        self.stats().count(endpoint, &status.to_string())
    }

    /// Requests to `endpoint` with a fault outcome (`"reset"`, `"timeout"`,
    /// `"dropped_after_commit"`) or a status given as text.
    pub fn count_outcome(&self, endpoint: &str, outcome: &str) -> u64 {
        self.stats().count(endpoint, outcome)
    }

    /// All requests to `endpoint`.
    pub fn count_endpoint(&self, endpoint: &str) -> u64 {
        self.stats().count_endpoint(endpoint)
    }

    /// Expires one token, or all of them (`None`), as of one second ago.
    pub fn expire_tokens(&self, token: Option<&str>) -> usize {
        self.inner.shared.tokens().expire(token, Utc::now())
    }

    /// Revokes one token, or all tokens and refresh tokens (`None`).
    pub fn revoke_tokens(&self, token: Option<&str>) -> usize {
        self.inner.shared.tokens().revoke(token)
    }

    pub fn restore_tokens(&self) {
        self.inner.restore_tokens();
    }

    /// Grants only `scopes` to a token (or all tokens); `None` grants every scope.
    pub fn set_token_scopes(&self, token: Option<&str>, scopes: Option<Vec<String>>) -> usize {
        self.inner.shared.tokens().set_scopes(token, scopes)
    }

    /// Issues an OAuth access token without an HTTP round trip.
    pub fn issue_access_token(&self) -> String {
        self.inner.shared.tokens().issue(Utc::now())
    }

    /// Changes the lifetime of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.inner.shared.tokens().set_lifetime(lifetime);
    }

    pub fn set_rate_limit(&self, api: Api, limit: Option<RateLimit>) {
        if api == Api::Dynamics {
            // Its execution-time window follows the request window.
            self.inner.shared.set_dynamics_limit(limit);
        } else {
            self.inner.shared.limiter(api).set_limit(limit);
        }
    }

    pub fn rate_limit(&self, api: Api) -> Option<RateLimit> {
        self.inner.shared.limiter(api).limit()
    }

    /// Whether 429 answers carry `Retry-After`.
    pub fn set_retry_after(&self, on: bool) {
        self.inner.shared.retry_after.store(on, Ordering::Relaxed);
    }

    /// Makes the REST API ask for keys of this shop (`key_format` in
    /// `GET /metadata`, `400 invalid_key` for other keys); `None`: any key.
    /// Panics on a shop number outside 1..=999999.
    pub fn set_rest_key_shop(&self, shop: Option<u32>) {
        assert!(
            shop.is_none_or(|s| (1..=crate::api::rest::key_format::MAX_SHOP).contains(&s)),
            "shop numbers are 1 to 999999"
        );
        self.inner.shared.set_rest_key_shop(shop);
    }

    pub fn rest_key_shop(&self) -> Option<u32> {
        self.inner.shared.rest_key_shop()
    }

    /// How long new or changed HubSpot objects stay invisible to search.
    pub fn set_search_index_lag(&self, lag: Duration) {
        self.inner.shared.set_search_lag(lag);
    }

    /// Removes a custom HubSpot property (e.g. `outpost_key`) so clients see
    /// "property does not exist" errors. False if it was absent or built in.
    pub fn remove_hubspot_property(&self, object: &str, name: &str) -> bool {
        ObjectType::from_path(object).is_some_and(|ty| {
            crate::api::hubspot::properties::remove(&self.inner.shared, ty, name).is_ok()
        })
    }

    /// Creates a custom HubSpot property (e.g. `vat_number`), taking the
    /// body of HubSpot's `POST /crm/v3/properties/{object}`
    /// (`{"name","label","type","fieldType","groupName","options"?...}`).
    pub fn create_hubspot_property(
        &self,
        object: &str,
        definition: serde_json::Value,
    ) -> Result<(), String> {
        self.inner.create_hubspot_property(object, definition)
    }

    /// Adds (or replaces) a custom field of the REST API: PUT bodies may
    /// carry it, records return it, `GET /metadata` lists it.
    pub fn define_rest_field(&self, field: CustomField) -> Result<(), String> {
        self.inner.define_rest_field(field)
    }

    /// Removes a custom REST field; values already stored stay in their
    /// records. False if there was none of that name.
    pub fn remove_rest_field(&self, name: &str) -> bool {
        self.inner.remove_rest_field(name)
    }

    /// The custom REST fields, by name.
    pub fn rest_fields(&self) -> Vec<CustomField> {
        self.inner
            .shared
            .store()
            .rest
            .custom_fields
            .values()
            .cloned()
            .collect()
    }

    /// Stores HubSpot objects directly (no HTTP, no validation): cheap seeding
    /// for paging tests. Returns their ids.
    pub fn seed_hubspot(
        &self,
        object: &str,
        records: Vec<BTreeMap<String, String>>,
    ) -> Vec<String> {
        self.inner.seed_hubspot(object, records)
    }

    /// Stores generic REST customers directly by key. Returns their ids.
    pub fn seed_rest(&self, records: Vec<(String, CustomerFields)>) -> Vec<String> {
        self.inner.seed_rest(records)
    }

    /// Changes a record as a person in the CRM would (`fields`: HubSpot
    /// property names or REST field names, `null` clears). `Ok(false)`:
    /// no such record.
    pub fn edit_as_crm_user(
        &self,
        target: &crm_user::Target,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, String> {
        self.inner.edit_as_crm_user(target, fields)
    }

    /// Deletes a record as a person in the CRM would.
    pub fn delete_as_crm_user(&self, target: &crm_user::Target) -> Result<bool, String> {
        self.inner.delete_as_crm_user(target)
    }

    /// Stores Salesforce records directly (no HTTP, no validation; fields by
    /// Salesforce name, e.g. `LastName`, `Email`, `Outpost_Key__c`) in
    /// `object` `Contact` or `Lead`. Returns their ids (none for an unknown object).
    pub fn seed_salesforce(
        &self,
        object: &str,
        records: Vec<BTreeMap<String, String>>,
    ) -> Vec<String> {
        self.inner.seed_salesforce(object, records)
    }

    /// Standard duplicate rules: a Contact/Lead whose Email another one has is
    /// refused with `DUPLICATES_DETECTED` unless `Sforce-Duplicate-Rule-Header:
    /// allowSave=true` (off by default).
    pub fn set_salesforce_duplicate_rule(&self, on: bool) {
        self.inner.shared.salesforce().duplicate_rule = on;
    }

    /// The `instance_url` the token endpoint names (`None`: [`Emulator::crm_url`]).
    pub fn set_salesforce_instance_url(&self, url: Option<String>) {
        self.inner.shared.salesforce().instance_url = url;
    }

    /// Refresh-token rotation: each refresh answer carries a new
    /// `refresh_token` and the one used stops working (off by default).
    pub fn set_salesforce_rotation(&self, on: bool) {
        self.inner.shared.salesforce().rotation = on;
    }

    /// Removes a custom field (e.g. `Outpost_Key__c`) from `Contact` or
    /// `Lead`; stored values stay but are no longer shown. False if absent
    /// or a standard field.
    pub fn remove_salesforce_field(&self, object: &str, name: &str) -> bool {
        self.inner.remove_salesforce_field(object, name)
    }

    /// Adds (or replaces) a custom field, e.g. `("Contact", "VAT_Number__c",
    /// "string", 32)`. Types: `string`, `textarea`, `email`, `phone`,
    /// `boolean`, `datetime`.
    pub fn define_salesforce_field(
        &self,
        object: &str,
        name: &str,
        kind: &str,
        length: u32,
    ) -> Result<(), String> {
        self.inner
            .define_salesforce_field(object, name, kind, length)
    }

    /// Changes a custom field's `externalId` and `unique` flags (e.g. make
    /// `Outpost_Key__c` non-unique to get 300 answers). False if absent.
    pub fn set_salesforce_field_flags(
        &self,
        object: &str,
        name: &str,
        external_id: bool,
        unique: bool,
    ) -> bool {
        self.inner
            .set_salesforce_field_flags(object, name, external_id, unique)
    }

    /// The describe entry of a field, if the object has it.
    pub fn salesforce_field(&self, object: &str, name: &str) -> Option<serde_json::Value> {
        let o = SObject::from_name(object)?;
        let store = self.inner.shared.store();
        store
            .salesforce
            .def(o)
            .field(name)
            .map(SfFieldDef::describe)
    }

    /// Forgets every open query cursor: their `nextRecordsUrl` answers
    /// `400 INVALID_QUERY_LOCATOR` (as after 15 minutes).
    pub fn expire_salesforce_query_locators(&self) -> usize {
        crate::api::salesforce::query::expire_locators(&self.inner.shared)
    }

    /// Dataverse's switches and the alternate key's state.
    pub fn dynamics_settings(&self) -> DynRuntime {
        self.inner.shared.dynamics().clone()
    }

    /// Duplicate detection rules published (applied to requests that send
    /// `MSCRM.SuppressDuplicateDetection: false`); `status` 412 or 500.
    pub fn set_dynamics_duplicate_detection(&self, on: bool, status: Option<u16>) {
        let mut rt = self.inner.shared.dynamics();
        rt.duplicate_detection = on;
        if let Some(s) = status {
            rt.duplicate_status = s;
        }
    }

    /// Change tracking on contact (off: track-changes and delta links get 400).
    pub fn set_dynamics_change_tracking(&self, on: bool) {
        self.inner.shared.dynamics().change_tracking = on;
    }

    /// The `outpost_key` alternate key's index status; `None` removes the key.
    pub fn set_dynamics_key_status(&self, status: Option<KeyStatus>) {
        self.inner.shared.dynamics().key_status = status;
    }

    /// Whether each `$batch` operation counts as a request (default `true`;
    /// `false`: a batch counts once, its operations still use time).
    pub fn set_dynamics_batch_counting(&self, operations: bool) {
        self.inner.shared.dynamics().batch_counts_operations = operations;
    }

    /// The application user holds `prvCreateContact` (default `true`;
    /// `false`: creates answer 403 `0x80040220`).
    pub fn set_dynamics_create_privilege(&self, on: bool) {
        self.inner.shared.dynamics().can_create = on;
    }

    /// Dataverse's concurrent request cap (0: off).
    pub fn set_dynamics_concurrency(&self, max: u32) {
        self.inner
            .shared
            .dynamics_concurrency
            .store(max, Ordering::SeqCst);
    }

    /// Stores Dataverse contacts directly (no HTTP, no validation; columns
    /// by logical name); returns their ids.
    pub fn seed_dynamics(&self, records: Vec<BTreeMap<String, String>>) -> Vec<String> {
        self.inner.seed_dynamics(records)
    }

    /// Everything `GET /zoho/settings` shows (credits, concurrency,
    /// in_flight, tokens_minted, data_centre, modules, ...).
    pub fn zoho_settings(&self) -> serde_json::Value {
        zoho_admin::settings(&self.inner.shared)
    }

    /// Changes Zoho switches (data centre, the 2,000-record page rule, the
    /// credit limit's status, the minting limit, the request cost).
    pub fn change_zoho_settings(&self, change: zoho_admin::SettingsChange) -> Result<(), String> {
        zoho_admin::change_settings(&self.inner.shared, change)
    }

    /// Zoho credits per rolling 24 h (0: off); `used`: credits already spent.
    pub fn set_zoho_credits(&self, max: u64, used: Option<u64>) {
        zoho_admin::set_credits(&self.inner.shared, max, used);
    }

    /// Zoho's concurrent request cap; 0 turns it off.
    pub fn set_zoho_concurrency(&self, max: u32) {
        zoho_admin::set_concurrency(&self.inner.shared, max);
    }

    /// A new refresh token of `data_centre` (default: the emulator's own).
    pub fn issue_zoho_refresh_token(&self, data_centre: Option<&str>) -> String {
        zoho_admin::issue_refresh_token(&self.inner.shared, data_centre)
    }

    /// A one-use grant code for `grant_type=authorization_code`.
    pub fn issue_zoho_grant_code(&self) -> String {
        zoho_admin::issue_grant_code(&self.inner.shared)
    }

    /// Makes every handed-out `page_token` expired; returns how many.
    pub fn expire_zoho_page_tokens(&self) -> usize {
        zoho_admin::expire_page_tokens(&self.inner.shared)
    }

    /// Adds a custom field (`text`, `email`, `phone`, `textarea`, `picklist`, `boolean`).
    pub fn define_zoho_field(
        &self,
        module: &str,
        api_name: &str,
        data_type: &str,
        length: u32,
        unique: bool,
    ) -> Result<(), String> {
        zoho_admin::define_field(
            &self.inner.shared,
            module,
            api_name,
            data_type,
            length,
            unique,
        )
    }

    /// Removes a custom field; `false`: no such custom field.
    pub fn remove_zoho_field(&self, module: &str, api_name: &str) -> bool {
        zoho_admin::remove_field(&self.inner.shared, module, api_name).unwrap_or(false)
    }

    /// Flips a field's unique flag and (for picklists) its restriction.
    pub fn set_zoho_field_flags(
        &self,
        module: &str,
        api_name: &str,
        unique: Option<bool>,
        restricted: Option<bool>,
    ) -> Result<(), String> {
        zoho_admin::set_field_flags(&self.inner.shared, module, api_name, unique, restricted)
            .map(|_| ())
    }

    /// Whether the profile may create, edit and delete a module's records.
    pub fn set_zoho_creatable(&self, module: &str, creatable: bool) -> Result<(), String> {
        zoho_admin::set_creatable(&self.inner.shared, module, creatable)
    }

    /// Stores Zoho records directly (fields by api name); returns their ids.
    pub fn seed_zoho(
        &self,
        module: &str,
        records: Vec<BTreeMap<String, String>>,
    ) -> Result<Vec<String>, String> {
        zoho_admin::seed(&self.inner.shared, module, records)
    }

    /// Stops both servers and flushes the state file.
    pub async fn shutdown(self) {
        self.control.down().await;
        self.inner.crm.down().await;
        let writer = self.inner.shared.store().take_writer();
        if let Some(w) = writer {
            w.close().await;
        }
    }
}

impl Inner {
    pub fn edit_as_crm_user(
        &self,
        target: &crm_user::Target,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, String> {
        crm_user::edit(&mut self.shared.store(), target, fields)
    }

    pub fn delete_as_crm_user(&self, target: &crm_user::Target) -> Result<bool, String> {
        crm_user::delete(&mut self.shared.store(), target)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults().set(faults);
    }

    pub fn restore_tokens(&self) {
        let refresh = self.shared.config.oauth_refresh_token.clone();
        self.shared.tokens().restore(&refresh, Utc::now());
    }

    pub async fn reset(&self) {
        let barrier = {
            let mut store = self.shared.store();
            store.clear();
            store.barrier()
        };
        self.shared.faults().clear();
        self.shared.stats.reset();
        let cfg = &self.shared.config;
        self.shared
            .limiter(Api::Rest)
            .set_limit(cfg.rest_rate_limit);
        self.shared
            .limiter(Api::Hubspot)
            .set_limit(cfg.hubspot_rate_limit);
        self.shared
            .limiter(Api::Salesforce)
            .set_limit(cfg.salesforce_rate_limit);
        *self.shared.salesforce() = SfRuntime::default();
        self.shared.set_dynamics_limit(cfg.dynamics_rate_limit);
        *self.shared.dynamics() = DynRuntime::default();
        *self.shared.zoho() = crate::api::zoho::ZohoRuntime::new(cfg);
        self.shared
            .dynamics_concurrency
            .store(cfg.dynamics_concurrency, Ordering::SeqCst);
        self.shared
            .retry_after
            .store(cfg.retry_after, Ordering::Relaxed);
        self.restore_tokens();
        self.shared
            .set_search_lag(self.shared.config.search_index_lag);
        self.shared.set_rest_key_shop(cfg.rest_key_shop);
        crate::state::durable(barrier).await;
    }

    pub fn seed_hubspot(
        &self,
        object: &str,
        records: Vec<BTreeMap<String, String>>,
    ) -> Vec<String> {
        let Some(ty) = ObjectType::from_path(object) else {
            return Vec::new();
        };
        let mut store = self.shared.store();
        let at = objects::now();
        let mut ids = Vec::with_capacity(records.len());
        for props in records {
            let id = objects::insert_seed(&mut store.hubspot, ty, props, at);
            let obj = &store.hubspot.table(ty).objects[&id];
            store.put(ty.object_kind(), &id.to_string(), obj);
            ids.push(id.to_string());
        }
        ids
    }

    pub fn create_hubspot_property(
        &self,
        object: &str,
        definition: serde_json::Value,
    ) -> Result<(), String> {
        let ty = ObjectType::from_path(object)
            .ok_or_else(|| format!("unknown object type {object:?}"))?;
        let input = serde_json::from_value(definition)
            .map_err(|e| format!("invalid property definition: {e}"))?;
        crate::api::hubspot::properties::insert(&self.shared, ty, input)
            .map(|_| ())
            .map_err(|e| e.message)
    }

    pub fn define_rest_field(&self, field: CustomField) -> Result<(), String> {
        field.validate()?;
        let mut store = self.shared.store();
        store.put(REST_FIELD_KIND, &field.name, &field);
        store.rest.custom_fields.insert(field.name.clone(), field);
        Ok(())
    }

    pub fn remove_rest_field(&self, name: &str) -> bool {
        let mut store = self.shared.store();
        let removed = store.rest.custom_fields.remove(name).is_some();
        if removed {
            store.delete(REST_FIELD_KIND, name);
        }
        removed
    }

    pub fn seed_dynamics(&self, records: Vec<BTreeMap<String, String>>) -> Vec<String> {
        let mut store = self.shared.store();
        let at = dv_model::now();
        let mut ids = Vec::with_capacity(records.len());
        for mut values in records {
            values.retain(|_, v| !v.is_empty());
            let id = values
                .remove("contactid")
                .and_then(|v| dv_model::parse_guid(&v))
                .unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
            let version = store.dynamics.next_version();
            let values = values
                .into_iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v.parse::<i64>()) {
                        (dv_model::PICKLIST, Ok(n)) => serde_json::json!(n),
                        _ => serde_json::json!(v),
                    };
                    (k, v)
                })
                .collect();
            store.dynamics.put(dv_model::Contact {
                id: id.clone(),
                values,
                created: at,
                modified: at,
                version,
            });
            crate::api::dynamics::records::persist(&store, &id);
            ids.push(id);
        }
        ids
    }

    pub fn seed_salesforce(
        &self,
        object: &str,
        records: Vec<BTreeMap<String, String>>,
    ) -> Vec<String> {
        let Some(o) = SObject::from_name(object) else {
            return Vec::new();
        };
        let mut store = self.shared.store();
        let at = sf_model::now();
        let mut ids = Vec::with_capacity(records.len());
        for mut values in records {
            values.retain(|_, v| !v.is_empty());
            let data = &mut store.salesforce;
            let def = data.def(o);
            let mut canonical = BTreeMap::new();
            for (k, v) in values {
                let name = def.field(&k).map_or(k, |f| f.name.clone());
                canonical.insert(name, v);
            }
            for f in &def.fields {
                if let Some(d) = f.default_value() {
                    canonical
                        .entry(f.name.clone())
                        .or_insert_with(|| d.to_string());
                }
            }
            canonical
                .entry("OwnerId".to_string())
                .or_insert_with(|| sf_model::DEFAULT_OWNER.to_string());
            let id = data.new_id(o);
            data.put(SfRecord {
                id: id.clone(),
                object: o,
                values: canonical,
                created: at,
                modified: at,
                deleted: None,
            });
            crate::api::salesforce::objects::persist(&store, &id);
            ids.push(id);
        }
        ids
    }

    pub fn remove_salesforce_field(&self, object: &str, name: &str) -> bool {
        let Some(o) = SObject::from_name(object) else {
            return false;
        };
        let mut store = self.shared.store();
        let fields = &mut store
            .salesforce
            .defs
            .get_mut(&o)
            .expect("every object")
            .fields;
        let Some(pos) = fields
            .iter()
            .position(|f| f.custom && f.name.eq_ignore_ascii_case(name))
        else {
            return false;
        };
        let removed = fields.remove(pos);
        store.delete(o.field_kind(), &removed.name);
        true
    }

    pub fn define_salesforce_field(
        &self,
        object: &str,
        name: &str,
        kind: &str,
        length: u32,
    ) -> Result<(), String> {
        let o = SObject::from_name(object)
            .ok_or_else(|| format!("unknown Salesforce object {object:?}"))?;
        let mut field = SfFieldDef::custom(name, kind, length)?;
        let mut store = self.shared.store();
        let def = store.salesforce.defs.get_mut(&o).expect("every object");
        if def.field(name).is_some_and(|f| !f.custom) {
            return Err(format!("{name} is a standard field"));
        }
        def.fields.retain(|f| !f.name.eq_ignore_ascii_case(name));
        field.position = def.fields.iter().map(|f| f.position + 1).max().unwrap_or(0);
        def.fields.push(field.clone());
        store.put(o.field_kind(), &field.name, &field);
        Ok(())
    }

    pub fn set_salesforce_field_flags(
        &self,
        object: &str,
        name: &str,
        external_id: bool,
        unique: bool,
    ) -> bool {
        let Some(o) = SObject::from_name(object) else {
            return false;
        };
        let mut store = self.shared.store();
        let def = store.salesforce.defs.get_mut(&o).expect("every object");
        let Some(f) = def.field_mut(name).filter(|f| f.custom) else {
            return false;
        };
        f.external_id = external_id;
        f.unique = unique;
        let f = f.clone();
        store.put(o.field_kind(), &f.name, &f);
        true
    }

    pub fn seed_rest(&self, records: Vec<(String, CustomerFields)>) -> Vec<String> {
        let mut store = self.shared.store();
        let now = rest_model::now();
        let mut ids = Vec::with_capacity(records.len());
        for (key, fields) in records {
            let id = Customer::format_id(store.rest.next_id);
            store.rest.next_id += 1;
            let c = Customer {
                id: id.clone(),
                key: key.clone(),
                fields,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store.put(REST_KIND, &key, &c);
            store.rest.customers.insert(key, c);
            ids.push(id);
        }
        ids
    }
}
