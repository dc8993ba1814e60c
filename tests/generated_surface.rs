//! A snapshot of the generated public surface: every type, field, variant
//! and client method progenitor emitted. A spec update that renames or
//! retypes something shows up as a diff of `tests/data/generated_surface.txt`
//! in review. After an intended change: `UPDATE_SNAPSHOTS=1 cargo test --test generated_surface`.

use quote::ToTokens;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/codegen.rs"));
const SNAPSHOT: &str = "tests/data/generated_surface.txt";

/// Tokens without spacing and std paths, so the snapshot reads like code.
fn tokens(t: &impl ToTokens) -> String {
    let mut text = t.to_token_stream().to_string().replace(' ', "");
    for prefix in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::collections::",
        "::std::num::",
        "::serde_json::",
    ] {
        text = text.replace(prefix, "");
    }
    text.replace(",>", ">").replace(",)", ")")
}

fn surface() -> String {
    let file = syn::parse_file(GENERATED).expect("generated code parses");
    let mut lines = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "types" => {
                for inner in m.content.iter().flat_map(|(_, items)| items) {
                    match inner {
                        syn::Item::Struct(s) => {
                            lines.push(format!("struct {}", s.ident));
                            for f in &s.fields {
                                let name = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_else(|| "0".into());
                                lines.push(format!("  {name}: {}", tokens(&f.ty)));
                            }
                        }
                        syn::Item::Enum(e) => {
                            lines.push(format!("enum {}", e.ident));
                            for v in &e.variants {
                                let fields = if v.fields.is_empty() {
                                    String::new()
                                } else {
                                    format!(" {}", tokens(&v.fields))
                                };
                                lines.push(format!("  {}{fields}", v.ident));
                            }
                        }
                        _ => {}
                    }
                }
            }
            syn::Item::Impl(i) if i.trait_.is_none() => {
                for m in &i.items {
                    if let syn::ImplItem::Fn(f) = m {
                        if matches!(f.vis, syn::Visibility::Public(_)) {
                            let inputs: Vec<String> = f.sig.inputs.iter().map(tokens).collect();
                            lines.push(format!(
                                "fn {}::{}({}) {}",
                                tokens(&i.self_ty),
                                f.sig.ident,
                                inputs.join(", "),
                                tokens(&f.sig.output)
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn generated_surface_matches_the_snapshot() {
    let current = surface();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).unwrap();
        println!("wrote {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if current != expected {
        let diff: Vec<String> = diff_lines(&expected, &current);
        panic!(
            "the generated surface changed (a spec update renamed or retyped something):\n{}\nreview it, then run UPDATE_SNAPSHOTS=1 cargo test --test generated_surface",
            diff.join("\n")
        );
    }
}

/// Lines only in one side, marked - (snapshot) or + (now).
fn diff_lines(old: &str, new: &str) -> Vec<String> {
    let old_set: std::collections::BTreeSet<&str> = old.lines().collect();
    let new_set: std::collections::BTreeSet<&str> = new.lines().collect();
    let mut out: Vec<String> = old_set.difference(&new_set).map(|l| format!("- {l}")).collect();
    out.extend(new_set.difference(&old_set).map(|l| format!("+ {l}")));
    out
}
