//! Go's unmarshalling rules for the server's structs: what a member must
//! be, and the error text when it is not.

use serde_json::{Map, Value};

/// Go's name for the JSON type of `v` in `cannot unmarshal <type> into …`.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cannot(v: &Value, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
        kind(v)
    )
}

/// An object member as Go's decoder matches struct fields: the exact name,
/// else the first case-insensitive match.
pub fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A Go `string` field: absent or `null` is `""`.
pub(crate) fn go_string(v: Option<&Value>, field: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(cannot(other, field, "string")),
    }
}

/// A Go `int` field: an integer literal in range; absent or `null` is 0.
pub(crate) fn go_int(v: Option<&Value>, field: &str) -> Result<i64, String> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            format!("json: cannot unmarshal number {n} into Go struct field {field} of type int")
        }),
        Some(other) => Err(cannot(other, field, "int")),
    }
}

/// A Go `http.Header` field (`map[string][]string`): an object of arrays
/// of strings, `null` standing for an empty array or string. Pairs come
/// out by name, each name's values in order.
pub(crate) fn go_header(v: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, String> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(obj)) => obj,
        Some(other) => return Err(cannot(other, field, "http.Header")),
    };
    let mut out = Vec::new();
    for (name, values) in obj {
        match values {
            Value::Null => {}
            Value::Array(values) => {
                for value in values {
                    match value {
                        Value::Null => out.push((name.clone(), String::new())),
                        Value::String(s) => out.push((name.clone(), s.clone())),
                        other => return Err(cannot(other, field, "[]string")),
                    }
                }
            }
            other => return Err(cannot(other, field, "[]string")),
        }
    }
    Ok(out)
}

/// Go's `time.Time` JSON form: `null`, or a string in RFC 3339 (with or
/// without fractional seconds) naming a real instant.
pub(crate) fn go_time(v: Option<&Value>, field: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if is_rfc3339(s) => Ok(()),
        Some(Value::String(s)) => Err(format!(
            "parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse (field {field})"
        )),
        Some(other) => Err(cannot(other, field, "time.Time")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)` with a valid date and time.
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
    ) else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && (sep(10, b'T') || sep(10, b't')))
        || !(sep(13, b':') && sep(16, b':'))
    {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    let mut at = 19;
    if sep(at, b'.') {
        at += 1;
        let from = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == from {
            return false;
        }
    }
    match b.get(at) {
        Some(b'Z' | b'z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            matches!((digits(at + 1, 2), digits(at + 4, 2)), (Some(h), Some(m)) if h < 24 && m < 60)
                && sep(at + 3, b':')
                && at + 6 == b.len()
        }
        _ => false,
    }
}
