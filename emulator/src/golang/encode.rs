//! JSON as Go's `encoding/json` writes it: compact, HTML-safe escapes,
//! sorted map keys.

use serde_json::Value;

/// Appends `s` as a JSON string the way Go's encoder writes it: `"` and
/// `\` escaped, `\n` `\r` `\t` short, other control characters and `<`
/// `>` `&` U+2028 U+2029 as `\u00XX`-style escapes.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_str_inner(out, s);
    out.push('"');
}

fn push_str_inner(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Appends bytes as a Go `string` value: each byte that is not part of
/// valid UTF-8 becomes `\ufffd`, as Go's encoder writes it.
pub(crate) fn push_bytes(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        push_str_inner(out, chunk.valid());
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

/// Appends `v` compactly, object keys sorted as Go sorts map keys.
/// Numbers are written as serde_json writes them, which is Go's form for
/// integers (the harness sends no others).
pub(crate) fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(obj) => {
            let mut keys: Vec<&String> = obj.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(out, key);
                out.push(':');
                if let Some(value) = obj.get(key) {
                    push_value(out, value);
                }
            }
            out.push('}');
        }
    }
}

/// Appends an `http.Header` as Go encodes it: names sorted, each with the
/// array of its values in order.
pub(crate) fn push_header(out: &mut String, headers: &[(String, String)]) {
    let mut names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    out.push('{');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push_str(":[");
        let values = headers.iter().filter(|(k, _)| k == name);
        for (j, (_, value)) in values.enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_str(out, value);
        }
        out.push(']');
    }
    out.push('}');
}
