//! `systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`: the
//! application user's privileges on contact, so "Test connection" can ask
//! whether it may create contacts. Without `prvCreateContact` (switched off
//! from the control API) creates answer 403 `0x80040220`, as Dataverse does.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::error::{code, DvError};
use super::model::{BUSINESS_UNIT_ID, USER_ID};
use super::reply::Reply;
use super::Call;
use crate::state::Shared;

const FUNCTION: &str = "/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()";
const PRIVILEGES: [(&str, &str); 4] = [
    ("prvCreateContact", "00000000-0000-4000-9200-000000000001"),
    ("prvReadContact", "00000000-0000-4000-9200-000000000002"),
    ("prvWriteContact", "00000000-0000-4000-9200-000000000003"),
    ("prvDeleteContact", "00000000-0000-4000-9200-000000000004"),
];

/// Whether the resource is the function on a system user.
pub fn matches(resource: &str) -> bool {
    resource.starts_with("systemusers(") && resource.ends_with(FUNCTION)
}

pub fn retrieve(shared: &Shared, call: &Call) -> Result<Reply, DvError> {
    let user = call
        .resource
        .strip_prefix("systemusers(")
        .and_then(|r| r.strip_suffix(FUNCTION))
        .and_then(|r| r.strip_suffix(')'))
        .and_then(super::model::parse_guid);
    if user.as_deref() != Some(USER_ID) {
        return Err(DvError::not_found(format!(
            "systemuser With Id = {} Does Not Exist",
            user.unwrap_or_default()
        )));
    }
    let can_create = shared.dynamics().can_create;
    let list: Vec<Value> = PRIVILEGES
        .iter()
        .filter(|(name, _)| can_create || *name != "prvCreateContact")
        .map(|(name, id)| {
            json!({"Depth": "Global", "PrivilegeId": id, "BusinessUnitId": BUSINESS_UNIT_ID,
                   "PrivilegeName": name, "RecordFilterId": "00000000-0000-0000-0000-000000000000",
                   "RecordFilterUniqueName": ""})
        })
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{}/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse", super::api_base(shared, &call.version)),
            "RolePrivileges": list,
        }),
    ))
}

/// A create by a user without `prvCreateContact`.
pub fn check_create(shared: &Shared) -> Result<(), DvError> {
    if shared.dynamics().can_create {
        return Ok(());
    }
    Err(DvError::new(
        StatusCode::FORBIDDEN,
        code::PRIVILEGE_DENIED,
        format!(
            "Principal user (Id={USER_ID}, type=8, roleCount=1, privilegeCount=3, accessMode=4), is missing prvCreateContact privilege (Id={}) on OTC=2 for entity 'contact'.",
            PRIVILEGES[0].1
        ),
    ))
}
