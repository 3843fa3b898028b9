//! The committed contract stays compatible: every field recorded in `proto/compat.lock.json` keeps
//! its number, name, type and cardinality, or is removed with its number and name reserved; a
//! number is never given to another field. New fields must be recorded
//! (`SCAFFOLD_UPDATE_CONTRACTS=1 cargo test -p scaffold-proto`), so additions are reviewed too.

#![allow(clippy::unwrap_used, clippy::panic)] // test code

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

fn lock_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto/compat.lock.json")
}

/// `{ "<package>.<Message>": { "fields": { "<number>": {name, type, label}}, "reserved": {...} } }`
fn describe(fds: &FileDescriptorSet) -> Value {
    let mut out = Map::new();
    fn walk(prefix: &str, m: &DescriptorProto, out: &mut Map<String, Value>) {
        let name = format!("{prefix}.{}", m.name());
        let mut fields = Map::new();
        for f in &m.field {
            let oneof = f.oneof_index.and_then(|i| m.oneof_decl.get(i as usize)).map(|o| o.name().to_owned());
            fields.insert(
                f.number().to_string(),
                json!({ "name": f.name(), "type": format!("{:?}", f.r#type()), "type_name": f.type_name(),
                        "label": format!("{:?}", f.label()), "oneof": oneof }),
            );
        }
        let reserved_numbers: Vec<Value> =
            m.reserved_range.iter().flat_map(|r| r.start()..r.end()).map(|n| json!(n)).collect();
        out.insert(
            name.clone(),
            json!({ "fields": fields, "reserved_numbers": reserved_numbers, "reserved_names": m.reserved_name }),
        );
        for nested in &m.nested_type {
            walk(&name, nested, out);
        }
    }
    for file in fds.file.iter().filter(|f| f.package().starts_with("scaffold.")) {
        for m in &file.message_type {
            walk(file.package(), m, &mut out);
        }
    }
    Value::Object(out)
}

/// The incompatibilities of `now` against `locked`, in words.
fn breaking(locked: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let empty = Map::new();
    for (message, was) in locked.as_object().unwrap_or(&empty) {
        let Some(is) = now.get(message) else {
            out.push(format!("message {message} was removed"));
            continue;
        };
        let reserved_numbers = is["reserved_numbers"].as_array().cloned().unwrap_or_default();
        let reserved_names = is["reserved_names"].as_array().cloned().unwrap_or_default();
        for (number, field) in was["fields"].as_object().unwrap_or(&empty) {
            match is["fields"].get(number) {
                None => {
                    let n: i64 = number.parse().unwrap_or(-1);
                    if !reserved_numbers.contains(&json!(n)) || !reserved_names.contains(&field["name"]) {
                        out.push(format!(
                            "{message} field {number} ({}) was removed without reserving its number and name",
                            field["name"]
                        ));
                    }
                }
                Some(f) => {
                    for key in ["name", "type", "type_name", "label", "oneof"] {
                        if f[key] != field[key] {
                            out.push(format!("{message} field {number}: {key} {} became {}", field[key], f[key]));
                        }
                    }
                }
            }
        }
    }
    out
}

fn current() -> Value {
    let fds = FileDescriptorSet::decode(scaffold_proto::DESCRIPTOR_SET).unwrap();
    describe(&fds)
}

#[test]
fn committed_messages_stay_compatible_and_recorded() {
    let now = current();
    let path = lock_path();
    if std::env::var_os("SCAFFOLD_UPDATE_CONTRACTS").is_some() {
        let locked: Value =
            std::fs::read_to_string(&path).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(json!({}));
        let broken = breaking(&locked, &now);
        assert!(broken.is_empty(), "refusing to record an incompatible contract:\n{}", broken.join("\n"));
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let locked: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let broken = breaking(&locked, &now);
    assert!(broken.is_empty(), "incompatible change to proto/:\n{}", broken.join("\n"));
    assert_eq!(
        locked, now,
        "proto/ has changes not recorded in proto/compat.lock.json: review them and run \
         SCAFFOLD_UPDATE_CONTRACTS=1 cargo test -p scaffold-proto"
    );
}

#[test]
fn a_renumbered_retyped_or_dropped_field_is_caught() {
    let locked = current();
    let mut now = locked.clone();
    let group = now["scaffold.changes.v1.GroupChange"]["fields"].as_object_mut().unwrap();
    let slug = group.remove("2").unwrap();
    group.insert("9".to_owned(), slug);
    let broken = breaking(&locked, &now);
    assert!(broken.iter().any(|b| b.contains("GroupChange field 2")), "{broken:?}");

    let mut now = locked.clone();
    now["scaffold.changes.v1.AttestationChange"]["fields"]["4"]["type"] = json!("String");
    assert!(breaking(&locked, &now).iter().any(|b| b.contains("AttestationChange field 4: type")));

    let mut now = locked.clone();
    now["scaffold.changes.v1.EventChange"]["fields"].as_object_mut().unwrap().remove("3");
    now["scaffold.changes.v1.EventChange"]["reserved_numbers"] = json!([3]);
    now["scaffold.changes.v1.EventChange"]["reserved_names"] = json!(["changed_fields"]);
    assert!(breaking(&locked, &now).is_empty(), "a field removed with its number and name reserved is compatible");
}

#[test]
fn payloads_use_the_canonical_json_mapping() {
    use scaffold_proto::changes::v1::{ChangeData, ChangeEvent, OccurrenceChange, change_data::Subject};
    let e = ChangeEvent {
        id: "0193".to_owned(),
        r#type: "occurrence.moved".to_owned(),
        timestamp: Some(scaffold_proto::Timestamp { seconds: 1_767_225_600, nanos: 0 }),
        data: Some(ChangeData {
            subject: Some(Subject::Occurrence(OccurrenceChange {
                event_id: "e".to_owned(),
                group_id: "g".to_owned(),
                occurrence_start: Some(scaffold_proto::Timestamp { seconds: 1_767_225_600, nanos: 0 }),
                new_start: None,
            })),
        }),
    };
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["timestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(v["data"]["occurrence"]["occurrenceStart"], "2026-01-01T00:00:00Z");
    assert_eq!(v["data"]["occurrence"]["eventId"], "e");
    assert!(v["data"]["occurrence"].get("newStart").is_none(), "unset fields are omitted");
    let back: ChangeEvent = serde_json::from_value(v).unwrap();
    assert_eq!(back, e);
}
