//! The signing scheme against the published Standard Webhooks vectors, and verification's
//! rejections.

use casewire_webhooks::{
    headers, sign, verify, verify_parts, Secret, WebhookError, DEFAULT_TOLERANCE_SECS, HEADER_ID,
    HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use http::{HeaderMap, HeaderValue};

// The specification's vector, as the reference libraries (Svix, standard-webhooks) test it.
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: i64 = 1614265330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn spec_secret() -> Secret {
    Secret::parse(SPEC_SECRET).unwrap()
}

fn header_map(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn signs_the_specification_test_vector_exactly() {
    assert_eq!(
        sign(&spec_secret(), SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(),
        SPEC_SIGNATURE
    );
}

#[test]
fn signs_the_reference_rust_librarys_vector_exactly() {
    let secret = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    assert_eq!(
        sign(
            &secret,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap(),
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    );
}

#[test]
fn verifies_the_specification_vector_from_headers_and_from_parts() {
    let map = header_map(&[
        (HEADER_ID, SPEC_ID.to_owned()),
        (HEADER_TIMESTAMP, SPEC_TS.to_string()),
        (HEADER_SIGNATURE, SPEC_SIGNATURE.to_owned()),
    ]);
    assert_eq!(
        verify(
            &spec_secret(),
            &map,
            SPEC_BODY,
            SPEC_TS,
            DEFAULT_TOLERANCE_SECS
        ),
        Ok(())
    );
    assert_eq!(
        verify_parts(
            &spec_secret(),
            SPEC_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY,
            SPEC_TS + 60,
            DEFAULT_TOLERANCE_SECS,
        ),
        Ok(())
    );
}

#[test]
fn the_whsec_prefix_is_optional_and_as_str_always_has_it() {
    let bare = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(bare.as_str(), SPEC_SECRET);
    assert_eq!(
        sign(&bare, SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(),
        SPEC_SIGNATURE
    );
    let pasted = Secret::parse(&format!("  {SPEC_SECRET}\n")).unwrap();
    assert_eq!(pasted.as_str(), SPEC_SECRET);
}

#[test]
fn generated_secrets_are_32_random_bytes_that_round_trip() {
    use base64::Engine;
    let a = Secret::generate();
    let b = Secret::generate();
    assert_ne!(a.as_str(), b.as_str());
    let encoded = a.as_str().strip_prefix("whsec_").expect("whsec_ prefix");
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert_eq!(key.len(), 32);

    let again = Secret::parse(a.as_str()).unwrap();
    assert_eq!(again.as_str(), a.as_str());
    assert_eq!(
        sign(&again, "msg_1", 1_700_000_000, b"{}").unwrap(),
        sign(&a, "msg_1", 1_700_000_000, b"{}").unwrap()
    );
    assert_ne!(
        sign(&b, "msg_1", 1_700_000_000, b"{}").unwrap(),
        sign(&a, "msg_1", 1_700_000_000, b"{}").unwrap()
    );
}

#[test]
fn debug_never_shows_the_secret() {
    let secret = spec_secret();
    let shown = format!("{secret:?} {:?}", Some(&secret));
    assert!(!shown.contains("MfKQ9r8G"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

#[test]
fn malformed_secrets_are_refused_without_quoting_them() {
    // 16 bytes: below the specification's 24-byte minimum.
    let short = "whsec_AAECAwQFBgcICQoLDA0ODw==";
    // 65 bytes: above its 64-byte maximum.
    let long = format!(
        "whsec_{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 65])
    );
    for bad in ["", "whsec_", "whsec_not*base64!", short, &long] {
        let err = Secret::parse(bad).unwrap_err();
        assert!(
            matches!(err, WebhookError::InvalidSecret(_)),
            "{bad}: {err:?}"
        );
        let shown = err.to_string();
        assert!(
            !shown.contains("base64!") && !shown.contains("AAECAw"),
            "{shown}"
        );
    }
    // 24 and 64 bytes are both accepted.
    for n in [24usize, 64] {
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![1u8; n]);
        assert!(Secret::parse(&text).is_ok(), "{n} bytes");
    }
}

#[test]
fn headers_carry_id_timestamp_and_a_signature_that_verifies() {
    let secret = Secret::generate();
    let body = br#"{"type":"message.delivered","data":{"id":"m_1"}}"#;
    let pairs = headers(&secret, "msg_abc", 1_700_000_000, body).unwrap();
    assert_eq!(pairs[0], (HEADER_ID, "msg_abc".to_owned()));
    assert_eq!(pairs[1], (HEADER_TIMESTAMP, "1700000000".to_owned()));
    assert_eq!(
        pairs[2],
        (
            HEADER_SIGNATURE,
            sign(&secret, "msg_abc", 1_700_000_000, body).unwrap()
        )
    );
    let map = header_map(&pairs);
    assert_eq!(verify(&secret, &map, body, 1_700_000_010, 300), Ok(()));
}

#[test]
fn one_matching_signature_among_several_is_enough() {
    let rotated = Secret::generate();
    let others = [
        sign(&rotated, SPEC_ID, SPEC_TS, SPEC_BODY).unwrap(),
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
            .to_owned(),
        "v1,not-base64!".to_owned(),
        "garbage".to_owned(),
    ];
    let with_valid = format!("{} {SPEC_SIGNATURE} {} {}", others[0], others[1], others[2]);
    assert_eq!(
        verify_parts(
            &spec_secret(),
            SPEC_ID,
            "1614265330",
            &with_valid,
            SPEC_BODY,
            SPEC_TS,
            300
        ),
        Ok(())
    );
    let without = others.join(" ");
    assert_eq!(
        verify_parts(
            &spec_secret(),
            SPEC_ID,
            "1614265330",
            &without,
            SPEC_BODY,
            SPEC_TS,
            300
        ),
        Err(WebhookError::BadSignature)
    );
    // The right MAC under another version label is not a v1 signature.
    let relabelled = SPEC_SIGNATURE.replacen("v1,", "v2,", 1);
    assert_eq!(
        verify_parts(
            &spec_secret(),
            SPEC_ID,
            "1614265330",
            &relabelled,
            SPEC_BODY,
            SPEC_TS,
            300
        ),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn any_change_to_body_id_timestamp_or_secret_fails() {
    let check = |secret: &Secret, id: &str, ts: i64, body: &[u8]| {
        verify_parts(secret, id, &ts.to_string(), SPEC_SIGNATURE, body, ts, 300)
    };
    let secret = spec_secret();
    assert_eq!(check(&secret, SPEC_ID, SPEC_TS, SPEC_BODY), Ok(()));
    let bad = Err(WebhookError::BadSignature);
    assert_eq!(
        check(&secret, SPEC_ID, SPEC_TS, br#"{"test": 2432232315}"#),
        bad
    );
    assert_eq!(
        check(&secret, SPEC_ID, SPEC_TS, br#"{"test":2432232314}"#),
        bad
    );
    assert_eq!(
        check(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SPEC_TS, SPEC_BODY),
        bad
    );
    assert_eq!(check(&secret, SPEC_ID, SPEC_TS + 1, SPEC_BODY), bad);
    assert_eq!(check(&Secret::generate(), SPEC_ID, SPEC_TS, SPEC_BODY), bad);
}

#[test]
fn timestamps_outside_the_tolerance_are_refused_either_way() {
    let secret = Secret::generate();
    let now = 1_700_000_000;
    let at = |ts: i64| {
        let sig = sign(&secret, "msg_t", ts, b"{}").unwrap();
        verify_parts(&secret, "msg_t", &ts.to_string(), &sig, b"{}", now, 300)
    };
    assert_eq!(at(now - 300), Ok(()));
    assert_eq!(at(now + 300), Ok(()));
    assert_eq!(
        at(now - 301),
        Err(WebhookError::TimestampTooOld {
            age_secs: 301,
            tolerance_secs: 300
        })
    );
    assert_eq!(
        at(now + 301),
        Err(WebhookError::TimestampInFuture {
            ahead_secs: 301,
            tolerance_secs: 300
        })
    );
    // Extremes neither overflow nor pass.
    let far = verify_parts(
        &secret,
        "msg_t",
        &i64::MIN.to_string(),
        "v1,AA==",
        b"",
        i64::MAX,
        u64::MAX,
    );
    assert_eq!(
        far,
        Err(WebhookError::BadSignature),
        "u64::MAX tolerance admits anything"
    );
    assert!(matches!(
        verify_parts(
            &secret,
            "msg_t",
            &i64::MIN.to_string(),
            "v1,AA==",
            b"",
            i64::MAX,
            300
        ),
        Err(WebhookError::TimestampTooOld { .. })
    ));
}

#[test]
fn missing_or_malformed_headers_are_named() {
    let secret = spec_secret();
    let full = [
        (HEADER_ID, SPEC_ID.to_owned()),
        (HEADER_TIMESTAMP, SPEC_TS.to_string()),
        (HEADER_SIGNATURE, SPEC_SIGNATURE.to_owned()),
    ];
    for (i, (name, _)) in full.iter().enumerate() {
        let mut some = full.to_vec();
        some.remove(i);
        assert_eq!(
            verify(&secret, &header_map(&some), SPEC_BODY, SPEC_TS, 300),
            Err(WebhookError::MissingHeader(name))
        );
    }
    for ts in ["", "soon", "1614265330.5"] {
        assert_eq!(
            verify_parts(
                &secret,
                SPEC_ID,
                ts,
                SPEC_SIGNATURE,
                SPEC_BODY,
                SPEC_TS,
                300
            ),
            Err(WebhookError::InvalidHeader(HEADER_TIMESTAMP))
        );
    }
    let mut map = header_map(&full);
    map.insert(
        HEADER_ID,
        HeaderValue::from_bytes(b"msg_\xff").expect("opaque bytes are a valid header value"),
    );
    assert_eq!(
        verify(&secret, &map, SPEC_BODY, SPEC_TS, 300),
        Err(WebhookError::InvalidHeader(HEADER_ID))
    );
}

/// The specification's crate signs text; casewire's bodies are JSON, and anything else is
/// refused with its own error rather than signed wrongly.
#[test]
fn a_body_that_is_not_utf8_is_refused() {
    let secret = Secret::parse(SPEC_SECRET).unwrap();
    assert_eq!(
        sign(&secret, "msg_1", 1_700_000_000, &[0xff, 0xfe]).unwrap_err(),
        casewire_webhooks::WebhookError::BodyNotUtf8
    );
}
