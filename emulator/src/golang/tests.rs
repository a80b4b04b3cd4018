//! Go's behaviour, as vectors.

use serde_json::Value;

use super::unmarshal::is_rfc3339;
use super::*;

fn scan_all(input: &[u8], eof: bool) -> Scan {
    Scanner::new().feed(input, eof)
}

#[test]
fn objects_end_at_their_closing_brace() {
    let input = b"  {\"a\":[1,2.5e-3,\"x\\u00e9\\n\"],\"b\":{}}\n{\"next\":1}";
    assert_eq!(scan_all(input, false), Scan::Complete { start: 2, end: 37 });
    assert_eq!(
        &input[2..37],
        b"{\"a\":[1,2.5e-3,\"x\\u00e9\\n\"],\"b\":{}}"
    );
}

#[test]
fn byte_by_byte_feeding_finds_the_same_end() {
    let input = b"\n{\"body\":\"hi \\\"there\\\"\",\"protocol\":{\"status_code\":200}}\n";
    let mut scanner = Scanner::new();
    let mut found = None;
    for n in 1..=input.len() {
        match scanner.feed(&input[..n], false) {
            Scan::Incomplete => {}
            other => {
                found = Some((n, other));
                break;
            }
        }
    }
    assert_eq!(
        found,
        Some((
            input.len() - 1,
            Scan::Complete {
                start: 1,
                end: input.len() - 1
            }
        ))
    );
}

#[test]
fn syntax_errors_are_reported_at_the_first_bad_byte() {
    for (input, error) in [
        (
            &b"stray line\n{}"[..],
            "invalid character 's' looking for beginning of value",
        ),
        (b"{\"a\" 1}", "invalid character '1' after object key"),
        (b"[1 2]", "invalid character '2' after array element"),
        (
            b"nul!",
            "invalid character '!' in literal null (expecting 'l')",
        ),
        (b"\"a\nb\"", "invalid character '\\n' in string literal"),
    ] {
        assert_eq!(scan_all(input, false), Scan::Invalid(error.into()));
    }
    assert!(matches!(scan_all(b"-x", false), Scan::Invalid(_)));
    assert!(matches!(scan_all(b"{,}", false), Scan::Invalid(_)));
}

#[test]
fn top_level_scalars_need_one_more_byte_or_the_end() {
    assert_eq!(scan_all(b"123", false), Scan::Incomplete);
    assert_eq!(scan_all(b"123", true), Scan::Complete { start: 0, end: 3 });
    assert_eq!(
        scan_all(b"123 ", false),
        Scan::Complete { start: 0, end: 3 }
    );
    assert_eq!(scan_all(b"true", false), Scan::Incomplete);
    assert_eq!(
        scan_all(b"true\n", false),
        Scan::Complete { start: 0, end: 4 }
    );
    assert_eq!(
        scan_all(b" \"s\"x", false),
        Scan::Complete { start: 1, end: 4 }
    );
}

#[test]
fn the_end_of_the_stream_is_eof_or_unexpected_eof() {
    assert_eq!(scan_all(b" \n\t", true), Scan::Eof);
    assert_eq!(scan_all(b"", true), Scan::Eof);
    assert_eq!(scan_all(b"{\"a\":", true), Scan::UnexpectedEof);
    assert_eq!(scan_all(b"1.", true), Scan::UnexpectedEof);
}

#[test]
fn invalid_utf8_in_strings_is_accepted_and_replaced() {
    let input = b"{\"body\":\"a\xffb\"}";
    assert_eq!(
        scan_all(input, false),
        Scan::Complete {
            start: 0,
            end: input.len()
        }
    );
    let v = parse_value(input).unwrap();
    assert_eq!(v["body"], "a\u{fffd}b");
}

#[test]
fn strings_are_escaped_as_go_escapes_them() {
    let mut out = String::new();
    push_str(
        &mut out,
        "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}\u{1}",
    );
    assert_eq!(
        out,
        "\"\\u003cb\\u003eh\u{e9}llo\\u003c/b\\u003e \\u0026 \\\"q\\\" \\\\ tab\\tline\\nsep\\u2028end \u{1F600}\\u0001\""
    );
    let mut out = String::new();
    push_bytes(&mut out, b"a\xff\xfeb");
    assert_eq!(out, "\"a\\ufffd\\ufffdb\"");
}

#[test]
fn values_and_headers_encode_with_sorted_keys() {
    let v: Value = serde_json::from_str(r#"{"b":[1,{"z":null,"a":true}],"a":"x"}"#).unwrap();
    let mut out = String::new();
    push_value(&mut out, &v);
    assert_eq!(out, r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#);
    let headers = vec![
        ("X-Multi".to_owned(), "1".to_owned()),
        ("Accept".to_owned(), "*/*".to_owned()),
        ("X-Multi".to_owned(), "2".to_owned()),
    ];
    let mut out = String::new();
    push_header(&mut out, &headers);
    assert_eq!(out, r#"{"Accept":["*/*"],"X-Multi":["1","2"]}"#);
}

#[test]
fn unmarshalling_follows_go_types() {
    let v: Value =
        serde_json::from_str(r#"{"Body":"x","n":200,"f":200.0,"h":{"A":["1",null],"B":null}}"#)
            .unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(go_string(member(obj, "body"), "body").unwrap(), "x");
    assert_eq!(go_string(member(obj, "none"), "none").unwrap(), "");
    assert!(go_string(member(obj, "n"), "n").is_err());
    assert_eq!(go_int(member(obj, "n"), "n").unwrap(), 200);
    assert!(go_int(member(obj, "f"), "f").is_err());
    assert_eq!(
        go_header(member(obj, "h"), "h").unwrap(),
        vec![
            ("A".to_owned(), "1".to_owned()),
            ("A".to_owned(), String::new())
        ]
    );
    assert!(go_header(member(obj, "n"), "n").is_err());
}

#[test]
fn rfc3339_times() {
    for ok in [
        "0001-01-01T00:00:00Z",
        "2018-10-25T19:30:01.123Z",
        "2024-02-29T23:59:59+02:00",
    ] {
        assert!(is_rfc3339(ok), "{ok}");
    }
    for bad in [
        "",
        "2018-10-25",
        "2023-02-29T00:00:00Z",
        "2018-13-01T00:00:00Z",
        "2018-10-25T19:30:01.Z",
        "2018-10-25T19:30:01",
        "2018-10-25 19:30:01Z",
    ] {
        assert!(!is_rfc3339(bad), "{bad}");
    }
}

#[test]
fn header_names_are_canonicalised_as_go_does() {
    assert_eq!(canonical_key("x-custom"), "X-Custom");
    assert_eq!(canonical_key("FN_CALL_ID"), "Fn_call_id");
    assert_eq!(canonical_key("content-md5"), "Content-Md5");
    assert_eq!(canonical_key("bad name"), "bad name");
}

#[test]
fn white_space_is_unicode_white_space() {
    assert!(all_unicode_space(b" \n\t\r\x0b\x0c"));
    assert!(all_unicode_space("\u{a0}\u{2028}\u{85}".as_bytes()));
    assert!(!all_unicode_space(b" x "));
    assert!(!all_unicode_space(b"\xff"));
}

#[test]
fn content_types_are_sniffed_like_go() {
    for (data, sniffed) in [
        (&b""[..], "text/plain; charset=utf-8"),
        (b"Hello", "text/plain; charset=utf-8"),
        (b"  <html><body>", "text/html; charset=utf-8"),
        (b"<?xml version", "text/xml; charset=utf-8"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\x00\x01\x02", "application/octet-stream"),
    ] {
        assert_eq!(detect_content_type(data), sniffed, "{data:?}");
    }
}
