//! Error answers in the provider's own shape, so clients exercise the same
//! parsing against the mock as against the real API.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// `{message, path, requestId, statusCode, timestamp}`; `message` is a list
/// when there is more than one thing to fix, as the provider sends it.
pub fn body(status: StatusCode, message: Value, path: &str, request_id: &str) -> Value {
    json!({
        "message": message,
        "path": path,
        "requestId": request_id,
        "statusCode": status.as_u16(),
        "timestamp": iso8601_now(),
    })
}

pub fn response(status: StatusCode, message: Value, path: &str, request_id: &str) -> Response {
    let mut res = (status, body(status, message, path, request_id).to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A request body axum would not hand over (past the limit, or broken
/// off), answered in the provider's shape like every other refusal rather
/// than in axum's plain text.
pub fn refused_body(rejection: &axum::extract::rejection::BytesRejection, path: &str, request_id: &str) -> Response {
    let message = format!("the request body was refused: {rejection}");
    response(rejection.status(), json!(message), path, request_id)
}

/// UTC now as `YYYY-MM-DDTHH:MM:SS.mmmZ`, without a date-time dependency.
pub fn iso8601_now() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
