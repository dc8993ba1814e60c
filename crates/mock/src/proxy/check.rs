//! The proxy's validation run again over recorded cassettes, and for each
//! departure from the published document, whether the normaliser already
//! absorbs it: the evidence a maintainer needs before adding a relaxation.

use serde_json::Value;

use super::validate::{self, Finding, Level, Part, StreamCheck};
use crate::cassette::Cassette;

/// Every finding for one recorded exchange, both levels, as the proxy would
/// have reported it live.
pub fn check_cassette(cassette: &Cassette) -> Vec<Finding> {
    let request = &cassette.request;
    let mut found = match (&request.body, &request.body_text) {
        (Some(body), _) => validate::check_request(body),
        (None, Some(text)) => match serde_json::from_str::<Value>(text) {
            Ok(v) => validate::check_request(&v),
            Err(e) => validate::not_json(Part::Request, text, &e),
        },
        (None, None) => Vec::new(),
    };
    let answer = &cassette.response;
    if !(200..300).contains(&answer.status) {
        return found;
    }
    match (&answer.events, &answer.body, &answer.body_text) {
        (Some(events), _, _) => {
            let mut check = StreamCheck::new(request.body.as_ref());
            for event in events {
                found.extend(check.data(&event.wire_data()));
            }
            // A truncated recording holds the stream's beginning only.
            if !answer.truncated {
                found.extend(check.finish(answer.complete));
            }
        }
        (None, Some(body), _) => found.extend(validate::check_response(body)),
        (None, None, Some(text)) => {
            if let Err(e) = serde_json::from_str::<Value>(text) {
                found.extend(validate::not_json(Part::Response, text, &e));
            }
        }
        (None, None, None) => {}
    }
    found
}

/// Whether the normalised document accepts what `published` (a finding at
/// the published level) objects to: no normalised finding in the same part
/// and event touches the same place (the pointer, a parent or a child of it).
pub fn absorbed(published: &Finding, all: &[Finding]) -> bool {
    !all.iter().any(|f| {
        f.level == Level::Normalised
            && f.part == published.part
            && f.event == published.event
            && overlaps(&f.pointer, &published.pointer)
    })
}

fn overlaps(a: &str, b: &str) -> bool {
    let under = |child: &str, parent: &str| {
        child == parent || (child.starts_with(parent) && child.as_bytes().get(parent.len()) == Some(&b'/'))
    };
    under(a, b) || under(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_overlap_along_one_path_only() {
        assert!(overlaps("/choices/0", "/choices/0/delta"));
        assert!(overlaps("", "/choices"));
        assert!(overlaps("/a", "/a"));
        assert!(!overlaps("/choices/1", "/choices/10"));
        assert!(!overlaps("/a/b", "/a/c"));
    }
}
