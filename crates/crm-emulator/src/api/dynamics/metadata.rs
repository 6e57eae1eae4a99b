//! `EntityDefinitions(LogicalName='contact')/Keys`, `/Attributes` (with
//! `$select`) and `/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`
//! (`$expand=OptionSet`), and `.../StringAttributeMetadata`.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::error::DvError;
use super::model::{self, Column, Kind, COLUMNS, CONTACT_METHODS, KEY_COLUMN};
use super::reply::Reply;
use super::{api_base, Call};
use crate::state::Shared;

const ENTITY: &str = "EntityDefinitions(LogicalName='contact')";
const KEY_METADATA_ID: &str = "00000000-0000-4000-9100-000000000001";

fn label(text: &str) -> Value {
    let l = json!({"Label": text, "LanguageCode": 1033, "IsManaged": true});
    json!({"LocalizedLabels": [l.clone()], "UserLocalizedLabel": l})
}

fn attribute(c: &Column) -> Value {
    let odata_type = match c.kind {
        Kind::String => "#Microsoft.Dynamics.CRM.StringAttributeMetadata",
        Kind::Picklist => "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        Kind::DateTime => "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
        Kind::BigInt => "#Microsoft.Dynamics.CRM.BigIntAttributeMetadata",
        Kind::Uniqueidentifier => "#Microsoft.Dynamics.CRM.UniqueIdentifierAttributeMetadata",
    };
    let mut v = json!({
        "@odata.type": odata_type,
        "LogicalName": c.name,
        "SchemaName": c.name,
        "MetadataId": model::metadata_id(c.name),
        "AttributeType": c.kind.attribute_type(),
        "RequiredLevel": {
            "Value": c.required.name(),
            "CanBeChanged": c.required != model::Required::SystemRequired,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "IsValidForCreate": !c.system,
        "IsValidForUpdate": !c.system && c.kind != Kind::Uniqueidentifier,
        "DisplayName": label(c.name),
    });
    if c.kind == Kind::String {
        v["MaxLength"] = json!(c.max_length);
    }
    v
}

fn option_set() -> Value {
    let options: Vec<Value> = CONTACT_METHODS
        .iter()
        .map(|(v, l)| json!({"Value": v, "Label": label(l)}))
        .collect();
    json!({
        "Name": "contact_preferredcontactmethodcode",
        "OptionSetType": "Picklist",
        "IsGlobal": false,
        "Options": options,
    })
}

/// `$select` of metadata: keeps the named properties (plus `MetadataId`
/// and annotations, as Dataverse does).
fn pick(v: Value, select: Option<&str>, expand: &[String]) -> Value {
    let Some(sel) = select else { return v };
    let names: Vec<&str> = sel.split(',').map(str::trim).collect();
    let Value::Object(m) = v else { return v };
    let kept: Map<String, Value> = m
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with('@')
                || k == "MetadataId"
                || names.contains(&k.as_str())
                || expand.contains(k)
        })
        .collect();
    Value::Object(kept)
}

pub fn get(shared: &Shared, call: &Call) -> Result<Reply, DvError> {
    let res = call.resource.as_str();
    let Some(rest) = res.strip_prefix(ENTITY) else {
        return Err(DvError::not_found(format!(
            "Could not find an entity with the key {}.",
            res.trim_start_matches("EntityDefinitions")
        )));
    };
    let base = api_base(shared, &call.version);
    let select = call.param("$select");
    let expand: Vec<String> = call
        .param("$expand")
        .map(|e| e.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let (context, value): (String, Vec<Value>) = match rest {
        "/Keys" => {
            let status = shared.dynamics().key_status;
            let keys = status
                .map(|s| {
                    json!({
                        "LogicalName": KEY_COLUMN,
                        "SchemaName": KEY_COLUMN,
                        "MetadataId": KEY_METADATA_ID,
                        "KeyAttributes": [KEY_COLUMN],
                        "EntityKeyIndexStatus": format!("{s:?}"),
                        "EntityLogicalName": "contact",
                        "DisplayName": label("Outpost key"),
                    })
                })
                .into_iter()
                .collect();
            (format!("{base}/$metadata#EntityDefinitions('contact')/Keys"), keys)
        }
        "/Attributes" => (
            format!("{base}/$metadata#EntityDefinitions('contact')/Attributes"),
            COLUMNS.iter().map(attribute).collect(),
        ),
        "/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata" => (
            format!("{base}/$metadata#EntityDefinitions('contact')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata"),
            COLUMNS.iter().filter(|c| c.kind == Kind::String).map(attribute).collect(),
        ),
        "/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata" => {
            let with_options = expand.iter().any(|e| e == "OptionSet");
            let v = COLUMNS
                .iter()
                .filter(|c| c.kind == Kind::Picklist)
                .map(|c| {
                    let mut a = attribute(c);
                    if with_options {
                        a["OptionSet"] = option_set();
                    }
                    a
                })
                .collect();
            (
                format!("{base}/$metadata#EntityDefinitions('contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet())"),
                v,
            )
        }
        other => {
            return Err(DvError::no_route("GET", &format!("{ENTITY}{other}")));
        }
    };
    let value: Vec<Value> = value
        .into_iter()
        .map(|v| pick(v, select, &expand))
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        json!({"@odata.context": context, "value": value}),
    ))
}
