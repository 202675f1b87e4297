//! `docs/analysis.schema.json` against the model it documents:
//!
//! - every struct reachable from [`Analysis`] has a closed `$defs` entry (named after the Rust
//!   type) whose properties are exactly the struct's serde fields, and every unit enum's `enum`
//!   list is exactly its serde variants — found by walking the types' `Deserialize` impls with a
//!   tracing deserializer, so a field added to any model type without the schema fails here;
//! - each def's `required` list is exactly the fields a default value always writes (the ones
//!   without `skip_serializing_if`);
//! - a maximal analysis (every option set, every list non-empty) matches the schema's types;
//! - the `schema_version` constant and `$id` carry [`SCHEMA_VERSION`];
//! - real `-o json` documents validate: the shared report fixtures, and the catalog of the shared
//!   `distroless-like` image (skipped with a reason when absent, failing under `CI=true`);
//! - the schema rejects unknown fields and unknown enum values (it is not vacuous).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tollgate::analysis::{Analysis, DbInfo, SCHEMA_VERSION, ToolInfo};
use tollgate::catalog::{Distro, Inventory, Location, Package, Problem, SecretFinding};
use tollgate::image::{FileEntry, HistoryEntry, ImageConfig, LayerInfo, Platform, SourceInfo};
use tollgate::matcher::{Cvss, Match, MatchDetail, Suppression, Vulnerability};
use tollgate::policy::{AllowlistRef, Evaluation, EvaluationProblem, RuleResult, TriggerHit};
use tollgate::report::{OutputSpec, ReportOptions};

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/analysis.schema.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The `-o json` bytes of an analysis, through the real adapter.
fn render_json(a: &Analysis) -> Value {
    let bytes = OutputSpec::parse("json")
        .unwrap()
        .render(a, &ReportOptions::default(), false)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A deserializer that answers every request with a placeholder and records the struct fields and
// enum variants serde asks for. Options are `Some`, sequences and maps hold one element, so the
// value it builds is maximal: serialising it writes every field.

#[derive(Debug, Default)]
struct Trace {
    structs: BTreeMap<&'static str, Vec<&'static str>>,
    enums: BTreeMap<&'static str, Vec<&'static str>>,
}

#[derive(Debug)]
struct TraceError(String);

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for TraceError {}
impl de::Error for TraceError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

#[derive(Clone, Copy)]
struct Tracer<'a> {
    trace: &'a RefCell<Trace>,
    depth: usize,
}

impl<'a> Tracer<'a> {
    fn deeper(self) -> Result<Self, TraceError> {
        if self.depth > 64 {
            return Err(TraceError("type nesting deeper than 64".into()));
        }
        Ok(Tracer {
            trace: self.trace,
            depth: self.depth + 1,
        })
    }
}

struct Elements<'a> {
    tracer: Tracer<'a>,
    left: usize,
}

impl<'de, 'a> de::SeqAccess<'de> for Elements<'a> {
    type Error = TraceError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(self.tracer.deeper()?).map(Some)
    }
}

/// One map entry (key and value both traced), or a struct's fields by name.
struct Entries<'a> {
    tracer: Tracer<'a>,
    keys: Option<&'static [&'static str]>,
    next: usize,
}

impl<'de, 'a> de::MapAccess<'de> for Entries<'a> {
    type Error = TraceError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        match self.keys {
            Some(keys) => {
                let Some(name) = keys.get(self.next) else {
                    return Ok(None);
                };
                self.next += 1;
                let d: de::value::StrDeserializer<'_, TraceError> = name.into_deserializer();
                seed.deserialize(d).map(Some)
            }
            None => {
                if self.next > 0 {
                    return Ok(None);
                }
                self.next += 1;
                seed.deserialize(self.tracer.deeper()?).map(Some)
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        seed.deserialize(self.tracer.deeper()?)
    }
}

struct FirstVariant<'a> {
    tracer: Tracer<'a>,
    name: &'static str,
}

impl<'de, 'a> de::EnumAccess<'de> for FirstVariant<'a> {
    type Error = TraceError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), TraceError> {
        let d: de::value::StrDeserializer<'_, TraceError> = self.name.into_deserializer();
        Ok((seed.deserialize(d)?, self))
    }
}

impl<'de, 'a> de::VariantAccess<'de> for FirstVariant<'a> {
    type Error = TraceError;
    fn unit_variant(self) -> Result<(), TraceError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, TraceError> {
        seed.deserialize(self.tracer.deeper()?)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_seq(Elements {
            tracer: self.tracer.deeper()?,
            left: len,
        })
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_map(Entries {
            tracer: self.tracer.deeper()?,
            keys: Some(fields),
            next: 0,
        })
    }
}

impl<'de, 'a> de::Deserializer<'de> for Tracer<'a> {
    type Error = TraceError;

    // `serde_json::Value` (free-form metadata) asks for "anything": give it null.
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_unit()
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_bool(true)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_i64(1)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_i64(1)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_i64(1)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_i64(1)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_u64(1)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_u64(1)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_u64(1)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_u64(1)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_f64(0.5)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_f64(0.5)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_char('x')
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_str("x")
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_str("x")
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_bytes(b"x")
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_bytes(b"x")
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_some(self.deeper()?)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, TraceError> {
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, TraceError> {
        v.visit_newtype_struct(self.deeper()?)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_seq(Elements {
            tracer: self,
            left: 1,
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, TraceError> {
        v.visit_seq(Elements {
            tracer: self,
            left: len,
        })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, TraceError> {
        v.visit_seq(Elements {
            tracer: self,
            left: len,
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_map(Entries {
            tracer: self,
            keys: None,
            next: 0,
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TraceError> {
        let mut t = self.trace.borrow_mut();
        if let Some(seen) = t.structs.get(name)
            && seen.as_slice() != fields
        {
            return Err(TraceError(format!(
                "two structs named `{name}` with different fields: {seen:?} and {fields:?}"
            )));
        }
        t.structs.insert(name, fields.to_vec());
        drop(t);
        v.visit_map(Entries {
            tracer: self,
            keys: Some(fields),
            next: 0,
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TraceError> {
        self.trace
            .borrow_mut()
            .enums
            .insert(name, variants.to_vec());
        let first = variants
            .first()
            .ok_or_else(|| TraceError(format!("enum `{name}` has no variants")))?;
        v.visit_enum(FirstVariant {
            tracer: self,
            name: first,
        })
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_str("x")
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_unit()
    }
}

/// The traced shapes of every type reachable from `Analysis`, and a maximal `Analysis`.
fn trace() -> (Trace, Analysis) {
    let cell = RefCell::new(Trace::default());
    let value = Analysis::deserialize(Tracer {
        trace: &cell,
        depth: 0,
    })
    .unwrap();
    (cell.into_inner(), value)
}

/// The schema object that documents the Rust type `name`.
fn def<'s>(schema: &'s Value, name: &str) -> Option<&'s Value> {
    if name == "Analysis" {
        Some(schema)
    } else {
        schema["$defs"].get(name)
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_model_field_and_variant_is_in_the_schema() {
    let schema = schema();
    let (trace, _) = trace();
    assert!(
        trace.structs.len() >= 20,
        "tracer found too few structs: {:?}",
        trace.structs.keys()
    );
    let mut problems = Vec::new();
    for (name, fields) in &trace.structs {
        let Some(d) = def(&schema, name) else {
            problems.push(format!("struct `{name}` has no $defs/{name}"));
            continue;
        };
        if d["additionalProperties"] != json!(false) {
            problems.push(format!(
                "$defs/{name} is not closed (additionalProperties: false)"
            ));
        }
        let model: BTreeSet<String> = fields.iter().map(|f| (*f).to_string()).collect();
        let documented = keys(&d["properties"]);
        for f in model.difference(&documented) {
            problems.push(format!("field `{name}.{f}` is not in the schema"));
        }
        for f in documented.difference(&model) {
            problems.push(format!("schema property `{name}.{f}` is not in the model"));
        }
        for f in strings(&d["required"]).difference(&documented) {
            problems.push(format!("`{name}` requires `{f}`, which it does not define"));
        }
    }
    for (name, variants) in &trace.enums {
        let Some(d) = def(&schema, name) else {
            problems.push(format!("enum `{name}` has no $defs/{name}"));
            continue;
        };
        let model: BTreeSet<String> = variants.iter().map(|v| (*v).to_string()).collect();
        if strings(&d["enum"]) != model {
            problems.push(format!(
                "$defs/{name} enum {:?} != model variants {model:?}",
                strings(&d["enum"])
            ));
        }
    }
    // No stale type definitions (lowercase $defs are shared helpers, not model types).
    for name in keys(&schema["$defs"]) {
        let is_type = name.starts_with(|c: char| c.is_ascii_uppercase());
        if is_type
            && !trace.structs.contains_key(name.as_str())
            && !trace.enums.contains_key(name.as_str())
        {
            problems.push(format!("$defs/{name} documents no model type"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn written_by_default<T: Default + Serialize>() -> BTreeSet<String> {
    keys(&serde_json::to_value(T::default()).unwrap())
}

#[test]
fn required_lists_are_the_fields_always_written() {
    let schema = schema();
    let (trace, _) = trace();
    let always: BTreeMap<&str, BTreeSet<String>> = BTreeMap::from([
        ("Analysis", written_by_default::<Analysis>()),
        ("ToolInfo", written_by_default::<ToolInfo>()),
        ("DbInfo", written_by_default::<DbInfo>()),
        ("Inventory", written_by_default::<Inventory>()),
        ("SourceInfo", written_by_default::<SourceInfo>()),
        ("ImageConfig", written_by_default::<ImageConfig>()),
        ("Platform", written_by_default::<Platform>()),
        ("HistoryEntry", written_by_default::<HistoryEntry>()),
        ("LayerInfo", written_by_default::<LayerInfo>()),
        ("FileEntry", written_by_default::<FileEntry>()),
        ("Distro", written_by_default::<Distro>()),
        ("Location", written_by_default::<Location>()),
        ("Package", written_by_default::<Package>()),
        ("SecretFinding", written_by_default::<SecretFinding>()),
        ("Problem", written_by_default::<Problem>()),
        ("Vulnerability", written_by_default::<Vulnerability>()),
        ("Cvss", written_by_default::<Cvss>()),
        ("MatchDetail", written_by_default::<MatchDetail>()),
        ("Suppression", written_by_default::<Suppression>()),
        ("Match", written_by_default::<Match>()),
        ("AllowlistRef", written_by_default::<AllowlistRef>()),
        ("TriggerHit", written_by_default::<TriggerHit>()),
        ("RuleResult", written_by_default::<RuleResult>()),
        ("Evaluation", written_by_default::<Evaluation>()),
        (
            "EvaluationProblem",
            written_by_default::<EvaluationProblem>(),
        ),
    ]);
    let traced: BTreeSet<&str> = trace.structs.keys().copied().collect();
    let listed: BTreeSet<&str> = always.keys().copied().collect();
    assert_eq!(
        traced, listed,
        "add new model structs to this test's list (and to the schema)"
    );
    for (name, fields) in always {
        let required = strings(&def(&schema, name).unwrap()["required"]);
        assert_eq!(
            required, fields,
            "$defs/{name}: `required` must be the fields written even when empty"
        );
    }
}

/// The schema with value constraints (const, pattern, minLength) relaxed to their types, so a
/// placeholder-filled document can be checked for shape alone.
fn shape_only(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            if o.get("enum")
                .is_some_and(|e| e.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
            {
                return json!({ "type": "string" });
            }
            if let Some(c) = o.get("const") {
                let ty = match c {
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    _ => "null",
                };
                return json!({ "type": ty });
            }
            Value::Object(
                o.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "pattern" | "minLength" | "maximum"))
                    .map(|(k, v)| (k.clone(), shape_only(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(shape_only).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_maximal_analysis_matches_the_schema_types() {
    let (_, max) = trace();
    let doc = render_json(&max);
    // Every optional part is present.
    assert!(doc["db"].is_object() && doc["evaluation"]["hits"][0]["allowlisted"].is_object());
    assert!(doc["inventory"]["packages"][0]["metadata"].is_object());
    let schema = shape_only(&schema());
    let errs = errors(&validator(&schema), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn schema_version_and_id_match_the_writer() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        SCHEMA_VERSION
    );
    let id = schema["$id"].as_str().unwrap();
    assert!(
        id.ends_with(&format!("/analysis-{SCHEMA_VERSION}.schema.json")),
        "$id {id} does not name version {SCHEMA_VERSION}"
    );
}

fn fixtures() -> Vec<(PathBuf, Value)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/analysis"
    ));
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let a: Analysis = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            out.push((p, render_json(&a)));
        }
    }
    assert!(out.len() >= 2, "no analysis fixtures in {}", dir.display());
    out
}

#[test]
fn report_fixtures_validate() {
    let v = validator(&schema());
    let mut saw_evaluation = false;
    for (path, doc) in fixtures() {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}:\n{}", path.display(), errs.join("\n"));
        saw_evaluation |= doc["evaluation"]["hits"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
            && doc["matches"].as_array().is_some_and(|m| !m.is_empty());
    }
    assert!(saw_evaluation, "no fixture with matches and policy hits");
}

#[test]
fn schema_rejects_unknown_fields_and_values() {
    let v = validator(&schema());
    let (_, doc) = fixtures()
        .into_iter()
        .find(|(_, d)| d["matches"].as_array().is_some_and(|m| !m.is_empty()))
        .unwrap();
    type Change = Box<dyn Fn(&mut Value)>;
    let bad: Vec<(&str, Change)> = vec![
        ("top-level field", Box::new(|d| d["extra"] = json!(1))),
        (
            "package field",
            Box::new(|d| d["inventory"]["packages"][0]["cpe"] = json!("x")),
        ),
        (
            "match field",
            Box::new(|d| d["matches"][0]["score"] = json!(1)),
        ),
        (
            "package type",
            Box::new(|d| d["inventory"]["packages"][0]["type"] = json!("cargo")),
        ),
        (
            "severity",
            Box::new(|d| d["matches"][0]["vulnerability"]["severity"] = json!("HIGH")),
        ),
        (
            "schema version",
            Box::new(|d| d["schema_version"] = json!("0.9")),
        ),
        (
            "missing inventory",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("inventory");
            }),
        ),
        (
            "file mode type",
            Box::new(|d| d["inventory"]["files"][0]["mode"] = json!("0755")),
        ),
    ];
    assert!(doc["inventory"]["files"][0].is_object());
    for (what, change) in bad {
        let mut d = doc.clone();
        change(&mut d);
        assert!(!v.is_valid(&d), "the schema accepted a bad {what}");
    }
}

fn testimage(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"))
        .join(name);
    if dir.join("oci/index.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but the shared test image {} is missing (../shared/testimages/build.sh)",
        dir.display()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: shared test image {} not built", dir.display());
    }
    None
}

#[test]
fn a_shared_image_catalog_validates() {
    let Some(dir) = testimage("distroless-like") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let load = tollgate::image::LoadOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        use_docker_config: false,
        ..Default::default()
    };
    let reference =
        tollgate::image::Reference::parse(&format!("oci-dir:{}", dir.join("oci").display()))
            .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inventory = rt
        .block_on(tollgate::catalog::load(
            &reference,
            &load,
            &tollgate::catalog::CatalogOptions::default(),
        ))
        .unwrap();
    let a = Analysis {
        schema_version: SCHEMA_VERSION.into(),
        tool: ToolInfo::current(),
        created: "2026-11-25T00:00:00Z".into(),
        inventory,
        ..Default::default()
    };
    let doc = render_json(&a);
    assert!(!doc["inventory"]["packages"].as_array().unwrap().is_empty());
    let errs = errors(&validator(&schema()), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}
