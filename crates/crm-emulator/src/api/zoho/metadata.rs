//! `GET /users?type=CurrentUser`, `/org`, `/settings/modules[/{api_name}]`
//! and `/settings/fields?module=`: what zohocrmsdk8-0 fetches before its
//! first record call (it learns field types from `settings/fields`).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::error::ZError;
use super::model::{self, Module};
use super::{ok, Answer, Call};
use crate::store::Store;

pub fn users(_store: &Store, _call: &Call) -> Answer {
    ok(
        StatusCode::OK,
        json!({
            "users": [{
                "id": model::USER_ID,
                "zuid": "70000000001",
                "first_name": "Outpost",
                "last_name": "Integration",
                "full_name": model::USER_NAME,
                "email": model::USER_EMAIL,
                "role": {"name": "CEO", "id": "4876876000000015969"},
                "profile": {"name": "Administrator", "id": "4876876000000015972"},
                "status": "active",
                "confirm": true,
                "language": "en_US",
                "locale": "en_US",
                "time_zone": "Etc/UTC",
                "country": "US",
                "time_format": "HH:mm",
                "date_format": "yyyy-MM-dd",
                "created_time": "2026-01-05T09:00:00+00:00",
                "modified_time": "2026-01-05T09:00:00+00:00",
            }],
            "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false},
        }),
    )
}

pub fn org(_store: &Store, _call: &Call) -> Answer {
    ok(
        StatusCode::OK,
        json!({
            "org": [{
                "id": model::ORG_ID,
                "company_name": "Outpost Test Org",
                "alias": "outpost",
                "primary_email": model::USER_EMAIL,
                "primary_zuid": "70000000001",
                "zgid": "70000000002",
                "domain_name": "org70000000002",
                "country_code": "US",
                "country": "United States",
                "currency": "US Dollar - USD",
                "iso_code": "USD",
                "currency_symbol": "$",
                "currency_locale": "en_US",
                "time_zone": "Etc/UTC",
                "mc_status": false,
                "gapps_enabled": false,
                "privacy_settings": false,
                "hipaa_compliance_enabled": false,
                "max_per_page": 200,
                "type": "production",
                "license_details": {
                    "paid": true,
                    "paid_type": "enterprise",
                    "trial_type": null,
                    "users_license_purchased": 10,
                },
                "edition": "Enterprise",
            }],
        }),
    )
}

fn describe_module(store: &Store, m: Module) -> Value {
    let st = &store.zoho.modules[&m];
    json!({
        "api_name": m.name(),
        "module_name": m.name(),
        "singular_label": m.singular(),
        "plural_label": m.name(),
        "creatable": st.creatable,
        "editable": st.creatable,
        "deletable": st.creatable,
        "viewable": true,
        "api_supported": true,
        "convertable": m == Module::Leads,
        "generated_type": "default",
        "visible": true,
        "visibility": 1,
        "status": "visible",
        "id": m.id(),
        "sequence_number": if m == Module::Leads { 2 } else { 3 },
        "modified_time": null,
        "profiles": [{"name": "Administrator", "id": "4876876000000015972"}],
    })
}

pub fn modules(store: &Store, _call: &Call) -> Answer {
    let all: Vec<Value> = Module::ALL
        .into_iter()
        .map(|m| describe_module(store, m))
        .collect();
    ok(StatusCode::OK, json!({"modules": all}))
}

pub fn module(store: &Store, call: &Call) -> Answer {
    let name = call.segs.get(2).map(String::as_str).unwrap_or("");
    let m = Module::from_name(name).ok_or_else(ZError::invalid_module)?;
    ok(
        StatusCode::OK,
        json!({"modules": [describe_module(store, m)]}),
    )
}

pub fn fields(store: &Store, call: &Call) -> Answer {
    let name = call
        .param("module")
        .ok_or_else(|| ZError::missing_param("module"))?;
    let m = Module::from_name(name).ok_or_else(ZError::invalid_module)?;
    let fields: Vec<Value> = store.zoho.fields(m).iter().map(|f| f.describe()).collect();
    ok(StatusCode::OK, json!({"fields": fields}))
}
