//! Writes the synthetic next releases of a published document
//! ([`maverick_spec::mutate`]) for `.ci/spec-evolution`.
//!
//! ```text
//! cargo run -p maverick-spec --example evolve -- OUTDIR BASE.json
//! ```
//!
//! OUTDIR gets one `NAME.json` per case, `combined-additive.json` (every
//! additive mutation at once) and `manifest.tsv`, one line per document:
//!
//! ```text
//! name <TAB> class <TAB> file <TAB> key <TAB> what
//! ```
//!
//! `class` is `additive` or `breaking` (`additive` for the combined one);
//! `key` is a hash of the normalised document without descriptions
//! (`refused` when the normaliser refuses it), so a script can skip building
//! a document whose generated code it has already built.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, base] = args.as_slice() else {
        eprintln!("usage: evolve OUTDIR BASE.json");
        return ExitCode::from(2);
    };
    match run(&PathBuf::from(out), &PathBuf::from(base)) {
        Ok(n) => {
            println!("wrote {n} documents and manifest.tsv to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(out: &std::path::Path, base: &std::path::Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(base).map_err(|e| format!("cannot read {}: {e}", base.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", base.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut manifest = String::new();
    let mut write = |name: &str, class: &str, what: &str, doc: &Value| -> Result<(), String> {
        let file = out.join(format!("{name}.json"));
        let bytes = serde_json::to_vec_pretty(doc).map_err(|e| e.to_string())?;
        std::fs::write(&file, bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        manifest.push_str(&format!(
            "{name}\t{class}\t{}\t{}\t{}\n",
            file.display(),
            key(doc),
            what.replace(['\t', '\n'], " ")
        ));
        Ok(())
    };
    let cases = maverick_spec::mutate::cases(&doc);
    for c in &cases {
        write(&c.name, c.class.as_str(), &c.what, &c.doc)?;
    }
    write(
        "combined-additive",
        "additive",
        "every additive mutation in one release",
        &maverick_spec::mutate::combined(&doc),
    )?;
    let path = out.join("manifest.tsv");
    std::fs::write(&path, manifest).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(cases.len() + 1)
}

/// FNV-1a of the normalised document without its prose: equal keys
/// build the same client (descriptions only become doc comments).
fn key(doc: &Value) -> String {
    match maverick_spec::normalize(doc.clone()) {
        Ok(n) => {
            let mut d = n.document;
            strip_descriptions(&mut d);
            // `info` (title, version) reaches no generated type.
            d["info"] = Value::Null;
            let text = d.to_string();
            let h = text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
            });
            format!("{h:016x}")
        }
        Err(_) => "refused".into(),
    }
}

fn strip_descriptions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            // Only prose: a property named `description` is a schema.
            if m.get("description").is_some_and(Value::is_string) {
                m.remove("description");
            }
            m.values_mut().for_each(strip_descriptions);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}
