//! `Fn-Deadline`'s RFC 3339 parser on arbitrary text. Besides not
//! panicking: `Z` and `+00:00` mean the same instant, and an accepted text
//! is never longer than the grammar allows once its fraction is removed.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(at) = fdk::__fuzz::parse_rfc3339(text) else {
        return;
    };
    if let Some(base) = text.strip_suffix(['Z', 'z']) {
        let offset = format!("{base}+00:00");
        assert_eq!(
            fdk::__fuzz::parse_rfc3339(&offset),
            Some(at),
            "{text:?} vs {offset:?}"
        );
        let minus = format!("{base}-00:00");
        assert_eq!(
            fdk::__fuzz::parse_rfc3339(&minus),
            Some(at),
            "{text:?} vs {minus:?}"
        );
    }
    // `YYYY-MM-DDTHH:MM:SS` then an optional fraction then `Z` or `±HH:MM`.
    let fraction = text[19..]
        .bytes()
        .take_while(|b| *b == b'.' || b.is_ascii_digit())
        .count();
    assert!(text.len() - fraction <= 25, "accepted {text:?}");
});
