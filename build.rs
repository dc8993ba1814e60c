//! Generates the typed client from the OpenAPI document at build time.
//!
//! spec/llama-4-maverick.json (or `MAVERICK_SPEC`) → maverick-spec's
//! normaliser → progenitor → `$OUT_DIR/codegen.rs`, included by
//! `src/generated.rs`. Nothing generated is committed: a spec update is
//! "replace the JSON, `cargo build`, read the diff".
// Build time only: a panic here fails the build, never a service.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::{env, fs, panic, process};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle};

fn main() {
    println!("cargo:rerun-if-env-changed=MAVERICK_SPEC");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec = match env::var_os("MAVERICK_SPEC") {
        Some(p) => manifest.join(p),
        None => manifest.join("spec/llama-4-maverick.json"),
    };
    println!("cargo:rerun-if-changed={}", spec.display());
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(message) = generate(&spec, &out) {
        // A failed build script shows its stderr; make it the whole story.
        eprintln!(
            "\nerror: cannot generate the Maverick client from {}\n  {message}\n",
            spec.display()
        );
        process::exit(1);
    }
}

fn generate(spec: &Path, out: &Path) -> Result<(), String> {
    let text = fs::read_to_string(spec).map_err(|e| {
        format!("cannot read the spec: {e} (set MAVERICK_SPEC to another file, or restore spec/llama-4-maverick.json)")
    })?;
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("the spec is not valid JSON: {e}"))?;
    let normalized = maverick_spec::normalize(raw).map_err(|e| format!("the normaliser refused the document: {e}"))?;
    maverick_spec::requirements::check(&normalized).map_err(|missing| {
        format!(
            "the document lacks what the handwritten wrapper relies on:\n{}",
            missing
                .iter()
                .map(|m| format!("    - {m}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    fs::write(out.join("facts.rs"), facts(&normalized)).map_err(|e| format!("cannot write facts.rs: {e}"))?;
    let pretty = serde_json::to_string_pretty(&normalized.document).map_err(|e| e.to_string())?;
    fs::write(out.join("normalized.json"), pretty).map_err(|e| format!("cannot write normalized.json: {e}"))?;
    let openapi: openapiv3::OpenAPI = serde_json::from_value(normalized.document).map_err(|e| {
        format!("the normalised document is not valid OpenAPI 3.0 (a normaliser bug; please report): {e}")
    })?;

    let mut settings = GenerationSettings::new();
    settings
        // Positional: one method taking the request body. The wrapper owns the
        // builder API, so progenitor's builder types would only add compile time.
        .with_interface(InterfaceStyle::Positional)
        // The wrapper must implement ClientHooks (auth, timeouts, retries);
        // forgetting it is a compile error instead of a silently bare client.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote_tokens("crate::transport::Transport")?)
        // Tests and users compare responses; BTreeMap keeps maps deterministic
        // (the mock and the snapshots depend on stable key order).
        .with_derive("PartialEq")
        .with_map_type("::std::collections::BTreeMap");

    // typify has panicked on published versions (duplicate variant names);
    // turn that into a build error naming the spec instead of a backtrace.
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(|| Generator::new(&settings).generate_tokens(&openapi));
    panic::set_hook(previous_hook);
    let tokens = match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor could not generate a client: {e}")),
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            return Err(format!("the code generator panicked: {why}"));
        }
    };
    let file: syn::File = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    fs::write(out.join("codegen.rs"), prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write codegen.rs: {e}"))?;
    Ok(())
}

fn quote_tokens(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("bad inner type path {path}: {e:?}"))
}

/// Facts the wrapper reads from the spec rather than hard-coding: the
/// operation path and every numeric bound of the request.
fn facts(normalized: &maverick_spec::Normalized) -> String {
    let mut out = String::new();
    out.push_str("/// Path of the chat completions operation in the spec.\n");
    out.push_str(&format!(
        "pub(crate) const OPERATION_PATH: &str = {:?};\n",
        normalized.source_path
    ));
    out.push_str("/// A numeric bound of a request field, from the spec.\npub(crate) struct Bound { pub field: &'static str, pub minimum: Option<f64>, pub maximum: Option<f64> }\n");
    out.push_str("/// Every bounded numeric request field.\npub(crate) const REQUEST_BOUNDS: &[Bound] = &[\n");
    let props = normalized
        .schema(maverick_spec::names::REQUEST)
        .and_then(|r| r.get("properties"))
        .and_then(|p| p.as_object());
    for (name, prop) in props.into_iter().flatten() {
        let mut push = |field: String, s: &serde_json::Value| {
            let num = |k: &str| s.get(k).and_then(|v| v.as_f64());
            let (lo, hi) = (num("minimum"), num("maximum"));
            if lo.is_some() || hi.is_some() {
                let opt = |v: Option<f64>| v.map(|v| format!("Some({v:?})")).unwrap_or_else(|| "None".into());
                out.push_str(&format!(
                    "    Bound {{ field: {field:?}, minimum: {}, maximum: {} }},\n",
                    opt(lo),
                    opt(hi)
                ));
            }
        };
        push(name.clone(), prop);
        if let Some(values) = prop.get("additionalProperties").filter(|v| v.is_object()) {
            push(format!("{name}.*"), values);
        }
    }
    out.push_str("];\n");
    out.push_str("/// Every property of the request schema: `ChatRequest::extra` refuses these.\npub(crate) const REQUEST_PROPERTIES: &[&str] = &[\n");
    for name in props.into_iter().flat_map(|p| p.keys()) {
        out.push_str(&format!("    {name:?},\n"));
    }
    out.push_str("];\n");
    out
}
