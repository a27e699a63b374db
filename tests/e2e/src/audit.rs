//! The compliance officer's trail: read a page at a time, filtered by case, number,
//! person, type and time, with sealed fields opened, and every look recorded in it.

use serde_json::{json, Value};

use crate::roles::{self, Staff};
use crate::{assert_error, assert_error_says, Api};

/// Every page of `GET /v1/audit/events?{query}`, followed to its end.
pub(crate) async fn trail(api: &Api, key: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after = 0;
    loop {
        let (s, page) = api
            .get(
                &format!("/v1/audit/events?{query}&after_seq={after}&limit=3"),
                key,
            )
            .await;
        assert_eq!(s, 200, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return items,
        }
    }
}

fn types(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// Texts on two cases by two advocates, then the trail read by each filter.
pub async fn the_trail_filtered_and_every_look_recorded(api: &Api) {
    let staff: Staff = roles::staff(api).await;
    let officer = staff.key("compliance");
    let (s, sent) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "See you Monday at 9."}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    let (s, other) = api
        .call_with(
            "POST",
            "/v1/cases/C-2/messages",
            Some(staff.key("advocate")),
            &[("Casewire-On-Behalf-Of", "adv-9")],
            Some(json!({"body": "Your hearing moved."})),
        )
        .await;
    assert_eq!(s, 202, "{other}");
    // Both texts through the sandbox: their later steps belong to their case's trail too.
    for id in [&sent["id"], &other["id"]] {
        api.wait_get(
            "the text to be sent",
            &format!("/v1/messages/{}", id.as_str().unwrap()),
            staff.key("admin"),
            |m| m["status"] != "queued",
        )
        .await;
    }

    // The whole trail chains, seq after seq, each event's prev_hash the hash before it.
    let all = trail(api, officer, "").await;
    for pair in all.windows(2) {
        assert_eq!(pair[1]["seq"], pair[0]["seq"].as_i64().unwrap() + 1);
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "{pair:?}");
    }

    // One case: its own events and its text's, with the body opened; nothing of C-2.
    let case = trail(api, officer, "case_id=C-1").await;
    let kinds = types(&case);
    assert!(
        kinds.contains(&"CaseLinked") && kinds.contains(&"OutboundQueued"),
        "{kinds:?}"
    );
    assert!(
        kinds.len() > 2,
        "the text's later steps are there: {kinds:?}"
    );
    let queued = case.iter().find(|e| e["type"] == "OutboundQueued").unwrap();
    assert_eq!(
        queued["payload"]["OutboundQueued"]["body"]["$sealed"]["value"], "See you Monday at 9.",
        "{queued}"
    );
    assert_eq!(queued["on_behalf_of"], "adv-7", "{queued}");
    assert!(
        case.iter().all(
            |e| !e.to_string().contains("C-2") && !e.to_string().contains("Your hearing moved")
        ),
        "nothing of the other case"
    );
    // The other client's number: their case and text, not C-1's.
    let number = trail(api, officer, "phone=%2B13125550162").await;
    assert!(types(&number).contains(&"OutboundQueued"));
    assert!(number
        .iter()
        .all(|e| !e.to_string().contains("See you Monday")));
    // One person: what was done on their behalf, and only that.
    let person = trail(api, officer, "advocate=adv-9").await;
    assert!(!person.is_empty());
    assert!(
        person.iter().all(|e| e["on_behalf_of"] == "adv-9"),
        "{person:?}"
    );
    // One type, and a time window.
    let queued = trail(api, officer, "type=OutboundQueued").await;
    assert_eq!(queued.len(), 2, "{queued:?}");
    let later = trail(
        api,
        officer,
        "type=OutboundQueued&from=2099-01-01T00:00:00Z",
    )
    .await;
    assert!(later.is_empty());
    let window = url_form(&[
        ("type", "OutboundQueued"),
        ("from", queued[1]["recorded_at"].as_str().unwrap()),
        ("to", "2099-01-01T00:00:00Z"),
    ]);
    assert_eq!(trail(api, officer, &window).await.len(), 1);

    // Every page read is in the trail, naming the key that read it and what it asked for.
    let (_, reads) = api
        .get("/v1/audit/events?type=TrailRead&limit=1000", officer)
        .await;
    let reads = reads["items"].as_array().unwrap();
    assert!(reads.len() >= 8, "{}", reads.len());
    assert!(reads
        .iter()
        .any(|r| r["payload"]["TrailRead"]["filter"] == json!({"case_id": "C-1", "after_seq": 0})));
    let officer_key = reads[0]["actor"].as_str().unwrap();
    assert!(officer_key.starts_with("api_key:"), "{officer_key}");
    // A compliance officer's read of a thread is recorded; an advocate's is not.
    let before = trail(api, officer, "type=TextsRead").await.len();
    let (s, _) = api
        .get("/v1/cases/C-1/messages", staff.key("advocate"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(trail(api, officer, "type=TextsRead").await.len(), before);
    let (s, thread) = api.get("/v1/cases/C-1/messages", officer).await;
    assert_eq!(s, 200, "{thread}");
    let texts_read = trail(api, officer, "type=TextsRead").await;
    assert_eq!(texts_read.len(), before + 1);
    assert_eq!(
        texts_read.last().unwrap()["payload"]["TextsRead"],
        json!({"case_id": "C-1", "texts": 1})
    );

    // The case's timeline: its own events, its texts' every step, its client's consent;
    // for the bound key whose case it is, and not for another's.
    let (s, c) = api
        .put(
            "/v1/consents/%2B13125550161",
            staff.key("admin"),
            json!({"state": "granted", "method": "verbal"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let timeline = api
        .wait_get(
            "the consent on the timeline",
            "/v1/cases/C-1/timeline",
            staff.key("bound"),
            |t| {
                t["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["aggregate_type"] == "consent")
            },
        )
        .await;
    let kinds = types(timeline["items"].as_array().unwrap());
    assert_eq!(kinds[0], "CaseLinked", "{kinds:?}");
    assert!(
        kinds.contains(&"OutboundQueued") && kinds.len() > 3,
        "{kinds:?}"
    );
    assert!(
        !timeline.to_string().contains("Your hearing moved"),
        "nothing of C-2"
    );
    let (s, e) = api.get("/v1/cases/C-2/timeline", staff.key("bound")).await;
    assert_error(s, &e, 404, "not_found");
    let (_, page) = api
        .get("/v1/cases/C-1/timeline?limit=2", staff.key("bound"))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_after"], page["items"][1]["seq"]);
    let before = trail(api, officer, "type=TextsRead").await.len();
    let (s, _) = api.get("/v1/cases/C-1/timeline", officer).await;
    assert_eq!(s, 200);
    assert_eq!(
        trail(api, officer, "type=TextsRead").await.len(),
        before + 1,
        "an officer's read is recorded"
    );

    // The transcript: the thread to print, escaped, with what the trail says of it.
    let (s, _) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "Bring <b>both</b> leases & the <script>notice</script>."}),
        )
        .await;
    assert_eq!(s, 202);
    let (s, page) = api
        .get("/v1/cases/C-1/transcript.html", staff.key("bound"))
        .await;
    assert_eq!(s, 200, "{page}");
    let page = page.as_str().expect("an HTML page").to_string();
    assert!(page.contains("See you Monday at 9."), "{page}");
    assert!(page.contains("adv-7"), "the sender: {page}");
    assert!(page.contains("&lt;script&gt;notice&lt;/script&gt;") && !page.contains("<script>"));
    assert!(
        page.contains("hashes to the value the trail records"),
        "{page}"
    );
    let (s, whole) = api
        .get("/v1/cases/C-1/transcript.html?verify=chain", officer)
        .await;
    assert_eq!(s, 200);
    assert!(whole.as_str().unwrap().contains("intact"), "{whole}");
    let (s, e) = api
        .get("/v1/cases/C-2/transcript.html", staff.key("bound"))
        .await;
    assert_error(s, &e, 404, "not_found");

    // A bad filter says what is wrong; another tenant's officer finds nothing of this one.
    for (query, says) in [
        ("from=yesterday", "from"),
        ("phone=312", "phone"),
        ("limit=0", "limit"),
    ] {
        let (s, e) = api.get(&format!("/v1/audit/events?{query}"), officer).await;
        assert_error_says(s, &e, 422, "validation_failed", says);
    }
    let (s, e) = api.get("/v1/audit/events?nope=1", officer).await;
    assert!(s == 400 || s == 422, "{s} {e}");
    let (_, other_officer) = api.tenant_with_key("Elsewhere Legal", "compliance").await;
    let (s, page) = api
        .get("/v1/audit/events?case_id=C-1", &other_officer)
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["items"], json!([]), "{page}");
    let (s, e) = api.get("/v1/audit/events", staff.key("advocate")).await;
    assert_error(s, &e, 403, "forbidden");
}

/// What a checkpoint says, as its note's text reads.
fn lines(note: &str) -> Vec<&str> {
    note.lines().collect()
}

/// Signed checkpoints: on demand, in the signed-note format any library verifies, to the
/// CMS's webhook, listed, and proving later that the trail extends them, until a rewrite
/// of history after one is caught at its seq. Answers the tenant and the note.
pub async fn checkpoints(api: &Api, database_url: &str) -> (String, String) {
    let staff: Staff = roles::staff(api).await;
    let officer = staff.key("compliance");
    let cms = casewire_testkit::FakeCms::start().await;
    let (s, endpoint) = api
        .post(
            "/v1/webhook-endpoints",
            staff.key("integration"),
            json!({"url": format!("{}/casewire", cms.url()), "events": ["audit.checkpoint"]}),
        )
        .await;
    assert_eq!(s, 201, "{endpoint}");
    let secret = casewire_webhooks::Secret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    let (s, sent) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "See you at 9."}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");

    // The verifier key, public to any key of the tenant.
    let (s, keys) = api.get("/v1/audit/public-key", staff.key("advocate")).await;
    assert_eq!(s, 200, "{keys}");
    let key = keys["key"].as_str().unwrap().to_string();
    // `<name>+<key id>+<base64 of 0x01 and the key>`; base64 may hold '+' itself.
    let parts: Vec<&str> = key.splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{key}");
    assert_eq!((parts[0], parts[1].len()), ("casewire.audit", 8), "{key}");

    // Signed on demand: four lines, a blank line, the signature, verified by the library.
    let (s, c) = api.post("/v1/audit/checkpoints", officer, json!({})).await;
    assert_eq!(s, 201, "{c}");
    let note = c["note"].as_str().unwrap().to_string();
    let seq = c["seq"].as_i64().unwrap();
    let l = lines(&note);
    assert_eq!(l[0], format!("casewire.audit/{}", staff.tenant));
    assert_eq!(l[1], seq.to_string());
    assert_eq!(l[2], c["hash"]);
    assert_eq!(l[3], c["signed_at"]);
    assert_eq!(l[4], "");
    assert!(l[5].starts_with("— casewire.audit "), "{note}");
    let verifier = signed_note::StandardVerifier::new(&key).unwrap();
    let opened = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
    opened
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .expect("the note verifies with the public key");
    let (_, head) = api.get(&format!("/v1/audit/head?seq={seq}"), officer).await;
    assert_eq!(head["hash"], c["hash"], "it signed that head");

    // It left casewire's database: the CMS has it, signed as every webhook is.
    let delivered = crate::wait_for(
        "the checkpoint at the CMS",
        std::time::Duration::from_secs(30),
        || async {
            cms.verified(&secret)
                .into_iter()
                .find(|w| w["type"] == "audit.checkpoint")
        },
    )
    .await;
    assert_eq!(delivered["data"]["note"], note.as_str(), "{delivered}");

    // Listed; and the trail, grown since, extends it.
    let (s, _) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "And bring the lease."}),
        )
        .await;
    assert_eq!(s, 202);
    let (_, list) = api.get("/v1/audit/checkpoints", officer).await;
    assert_eq!(list["items"][0]["note"], note.as_str(), "{list}");
    let verify = |note: String| async move {
        let query: String = url_form(&[("checkpoint", &note)]);
        api.get(&format!("/v1/audit/verify?{query}"), officer).await
    };
    let (s, report) = verify(note.clone()).await;
    assert_eq!((s, &report["status"]), (200, &json!("intact")), "{report}");
    // A note whose text was changed, or another tenant's, proves nothing.
    let forged = note.replacen(&format!("\n{seq}\n"), &format!("\n{}\n", seq - 1), 1);
    let (s, e) = verify(forged).await;
    assert_error_says(s, &e, 422, "validation_failed", "does not verify");
    let (_, other_admin) = api.tenant_with_key("Elsewhere Legal", "admin").await;
    let (s, e) = api
        .get(
            &format!("/v1/audit/verify?{}", url_form(&[("checkpoint", &note)])),
            &other_admin,
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "another tenant");

    // A superuser rewrites history from before the checkpoint to the head, every hash
    // recomputed and the head moved: the chain alone holds, the checkpoint does not.
    let store = casewire_eventstore::EventStore::new(
        casewire_eventstore::Db::connect(database_url)
            .await
            .unwrap(),
        casewire_crypto::Key::generate(),
    );
    let log = store.read_log(&staff.tenant, 0, 100_000).await.unwrap();
    let from = (seq - 2) as usize;
    let mut rewritten = log[from..].to_vec();
    // Backdated: any change to a hashed field will do.
    rewritten[0].recorded_at = "2026-01-01T00:00:00.000000Z".into();
    let prev = log[from - 1].hash.clone();
    let forged = casewire_eventstore::tamper::forge(&store, &prev, rewritten)
        .await
        .unwrap();
    let last = forged.last().unwrap();
    casewire_eventstore::tamper::move_head(&store, &staff.tenant, last.tenant_seq, &last.hash)
        .await
        .unwrap();
    let (_, plain) = api.get("/v1/audit/verify", officer).await;
    assert_eq!(plain["status"], "intact", "the rewrite is whole: {plain}");
    let (s, report) = verify(note.clone()).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["status"], "broken", "{report}");
    assert_eq!(
        report["seq"], seq,
        "named at the checkpoint's seq: {report}"
    );
    (staff.tenant.clone(), note)
}

/// A query string of `pairs`, form-encoded.
fn url_form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A verifier key of someone else's: a valid key that verifies none of casewire's notes.
pub fn another_verifier_key() -> String {
    signed_note::generate_key(&mut rand::rngs::OsRng, "casewire.audit").1
}

/// Exports through the API: redacted by default (ciphertext only), opened when asked, a
/// case's alone; each recorded. Answers the tenant and the whole redacted export.
pub async fn exports(api: &Api) -> (String, String) {
    let staff: Staff = roles::staff(api).await;
    let officer = staff.key("compliance");
    let (s, sent) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "Bring the lease, 9am."}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    let export = |query: &'static str| async move {
        let (s, body) = api.get(&format!("/v1/audit/export{query}"), officer).await;
        assert_eq!(s, 200, "{body}");
        let text = body
            .as_str()
            .expect("JSON Lines, not one JSON value")
            .to_string();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (text, lines)
    };
    let (redacted, lines) = export("").await;
    let manifest = &lines.last().unwrap()["manifest"];
    assert_eq!(manifest["events"], lines.len() - 1, "{manifest}");
    assert_eq!(manifest["redacted"], true);
    assert!(manifest["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with("casewire.audit/"));
    assert_eq!(lines[0]["tenant_seq"], 1);
    assert!(lines.iter().all(|l| l.get("opened").is_none()));
    assert!(
        !redacted.contains("Bring the lease"),
        "a redacted export holds no body in clear"
    );
    assert!(redacted.contains("OutboundQueued"));

    let (opened, _) = export("?redacted=false").await;
    assert!(
        opened.contains("Bring the lease, 9am."),
        "opened, the body is there"
    );
    let (_, case) = export("?case_id=C-1").await;
    let manifest = &case.last().unwrap()["manifest"];
    assert_eq!(manifest["filter"]["case_id"], "C-1");
    assert!(case[..case.len() - 1]
        .iter()
        .all(|l| !l.to_string().contains("C-2")));
    let (s, e) = api.get("/v1/audit/export?from=soon", officer).await;
    assert_error_says(s, &e, 422, "validation_failed", "from");

    let exported = trail(api, officer, "type=TrailExported").await;
    assert_eq!(exported.len(), 3, "each export is in the trail");
    assert_eq!(exported[1]["payload"]["TrailExported"]["redacted"], false);
    (staff.tenant.clone(), redacted)
}

/// The review: rules that flag texts by their words, flags by hand, their resolution, and
/// the search over clients' texts, each a step of the trail.
pub async fn review(api: &Api) {
    let staff: Staff = roles::staff(api).await;
    let officer = staff.key("compliance");
    let rules = format!("/v1/tenants/{}/review-rules", staff.tenant);
    let (s, r) = api
        .put(
            &rules,
            officer,
            json!({"keywords": [" SSN ", "Immigration Status"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["keywords"], json!(["ssn", "immigration status"]));
    let (s, e) = api.put(&rules, officer, json!({"keywords": [""]})).await;
    assert_error_says(s, &e, 422, "validation_failed", "keywords[0]");

    let (s, ssn) = api
        .post(
            "/v1/cases/C-1/messages",
            staff.key("bound"),
            json!({"body": "Please send your SSN by Friday."}),
        )
        .await;
    assert_eq!(s, 202, "{ssn}");
    let (s, inbound) = api
        .post(
            "/v1/sandbox/inbound",
            staff.key("advocate"),
            json!({"from": "+13125550161", "body": "Is my immigration status at risk?"}),
        )
        .await;
    assert_eq!(s, 201, "{inbound}");
    let (s, hearing) = api
        .post(
            "/v1/cases/C-2/messages",
            staff.key("advocate"),
            json!({"body": "Your hearing moved to Monday."}),
        )
        .await;
    assert_eq!(s, 202, "{hearing}");

    // The rules flag the two texts with their words, by casewire itself.
    let flags = api
        .wait_get("the review rules' flags", "/v1/flags", officer, |f| {
            f.as_array().unwrap().len() == 2
        })
        .await;
    let flags = flags.as_array().unwrap();
    assert!(flags
        .iter()
        .all(|f| f["reason"] == "keyword" && f["flagged_by"] == "system"));
    let of = |id: &Value| {
        flags
            .iter()
            .find(|f| f["message_id"] == *id)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&ssn["id"])["keywords"], json!(["ssn"]));
    assert_eq!(
        of(&inbound["id"])["keywords"],
        json!(["immigration status"])
    );

    // A flag by hand, with a note; resolved once.
    let flag_path = format!("/v1/messages/{}/flags", hearing["id"].as_str().unwrap());
    let (s, flag) = api
        .call_with(
            "POST",
            &flag_path,
            Some(officer),
            &[("Casewire-On-Behalf-Of", "officer-3")],
            Some(json!({"reason": "tone", "note": "Too curt for a client in crisis."})),
        )
        .await;
    assert_eq!(s, 201, "{flag}");
    assert_eq!(
        (
            &flag["state"],
            &flag["note"],
            &flag["on_behalf_of"],
            &flag["case_id"]
        ),
        (
            &json!("open"),
            &json!("Too curt for a client in crisis."),
            &json!("officer-3"),
            &json!("C-2")
        )
    );
    let (s, e) = api
        .post(&flag_path, officer, json!({"reason": "mood"}))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "reason");
    let (s, e) = api
        .post(
            "/v1/messages/nope/flags",
            officer,
            json!({"reason": "tone"}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");
    let resolve = format!("/v1/flags/{}/resolve", flag["id"].as_str().unwrap());
    let (s, done) = api
        .post(
            &resolve,
            officer,
            json!({"note": "Talked with the advocate."}),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (&done["state"], &done["resolution"]),
        (&json!("resolved"), &json!("Talked with the advocate."))
    );
    let (s, e) = api.post(&resolve, officer, json!({})).await;
    assert_error(s, &e, 409, "conflict");
    let (_, open) = api.get("/v1/flags", officer).await;
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");
    let (_, resolved) = api.get("/v1/flags?state=resolved", officer).await;
    assert_eq!(resolved.as_array().unwrap().len(), 1, "{resolved}");
    // Flags and their resolution are in the trail, the note sealed.
    let flagged = trail(api, officer, "type=MessageFlagged").await;
    assert_eq!(flagged.len(), 3);
    assert_eq!(trail(api, officer, "type=FlagResolved").await.len(), 1);

    // The search: words anywhere in a text, all of them; a case's alone; each recorded.
    let find = |query: String| async move {
        let (s, found) = api.get(&format!("/v1/search?{query}"), officer).await;
        assert_eq!(s, 200, "{found}");
        found["items"].as_array().unwrap().clone()
    };
    let found = find(url_form(&[("q", "ssn")])).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["body"], "Please send your SSN by Friday.");
    let found = find(url_form(&[("q", "monday HEARING")])).await;
    assert_eq!(found[0]["message_id"], hearing["id"]);
    // Newest first: the hearing's text came after the SSN's.
    let found = find(url_form(&[("q", "your")])).await;
    let bodies: Vec<&Value> = found.iter().map(|t| &t["body"]).collect();
    assert_eq!(
        bodies,
        [
            &json!("Your hearing moved to Monday."),
            &json!("Please send your SSN by Friday.")
        ]
    );
    assert!(find(url_form(&[("q", "hearing"), ("case_id", "C-1")]))
        .await
        .is_empty());
    let routed = crate::wait_for(
        "the client's text filed on C-1",
        std::time::Duration::from_secs(30),
        || async {
            let found = find(url_form(&[("q", "immigration"), ("case_id", "C-1")])).await;
            (!found.is_empty()).then_some(found)
        },
    )
    .await;
    assert_eq!(routed[0]["direction"], "inbound");
    // What casewire did on its own names what caused it: the routing, the client's text;
    // a keyword flag, the text that held the word.
    let received = trail(api, officer, "type=InboundReceived").await;
    let filed = trail(api, officer, "type=InboundRouted").await;
    assert_eq!(
        (&filed[0]["actor"], &filed[0]["metadata"]["causation_id"]),
        (&json!("system"), &received[0]["event_id"])
    );
    let queued = trail(api, officer, "type=OutboundQueued").await;
    let ssn_queued = queued
        .iter()
        .find(|e| e["aggregate_id"] == ssn["id"])
        .unwrap();
    let by_rule = flagged
        .iter()
        .find(|f| f["payload"]["MessageFlagged"]["message_id"] == ssn["id"])
        .unwrap();
    assert_eq!(by_rule["metadata"]["causation_id"], ssn_queued["event_id"]);
    let (s, e) = api.get("/v1/search?q=ssn", staff.key("admin")).await;
    assert_error(s, &e, 403, "forbidden");
    let (s, e) = api.get("/v1/search?q=%3F%21", officer).await;
    assert_error_says(s, &e, 422, "validation_failed", "q");
    let searched = trail(api, officer, "type=Searched").await;
    assert!(searched
        .iter()
        .any(|e| e["payload"]["Searched"]["words"]["$sealed"]["value"] == "ssn"));
    let (_, other_officer) = api.tenant_with_key("Elsewhere Legal", "compliance").await;
    let (s, none) = api.get("/v1/search?q=ssn", &other_officer).await;
    assert_eq!((s, &none["items"]), (200, &json!([])), "{none}");
}

/// Legal holds and erasure, end to end: a hold stops the erasure; once lifted, the client
/// is erased: nothing of their words readable anywhere in the database, the search empty
/// of them, the chain still verifying, the CMS told, Twilio's copies deleted (a failure
/// recorded and tried again), and another client untouched.
pub async fn erasure(api: &Api, twilio: &casewire_testkit::FakeTwilio, database_url: &str) {
    use crate::texting::{twilio_tenant, ACCOUNT_B, TOKEN_B};
    let (tenant, admin) = twilio_tenant(api, twilio, "Erie Legal Aid", ACCOUNT_B, TOKEN_B).await;
    let officer = api.key(&tenant, "compliance").await;
    let advocate = api.key(&tenant, "advocate").await;
    let (s, p) = api
        .put(
            &format!("/v1/tenants/{tenant}/policy"),
            &admin,
            json!({"quiet_hours": null}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let cms = casewire_testkit::FakeCms::start().await;
    let (s, endpoint) = api
        .post(
            "/v1/webhook-endpoints",
            &admin,
            json!({"url": format!("{}/casewire", cms.url()), "events": ["client.erased"]}),
        )
        .await;
    assert_eq!(s, 201, "{endpoint}");
    let secret = casewire_webhooks::Secret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    let (ana, ben) = ("+13125550171", "+13125550172");
    for (case, name, phone) in [
        ("E-1", "Anabel Quintero", ana),
        ("E-2", "Benedict Ortolan", ben),
    ] {
        let (s, c) = api
            .put(
                &format!("/v1/cases/{case}"),
                &advocate,
                json!({"client": {"name": name, "phone": phone}, "status": "open"}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
    }
    let mut sent = Vec::new();
    for (case, body) in [
        ("E-1", "Your eviction hearing is Monday, Anabel."),
        ("E-2", "Your eviction hearing is Tuesday, Benedict."),
    ] {
        let (s, m) = api
            .post(
                &format!("/v1/cases/{case}/messages"),
                &advocate,
                json!({"body": body}),
            )
            .await;
        assert_eq!(s, 202, "{m}");
        sent.push(m["id"].as_str().unwrap().to_string());
    }
    crate::texts_to(twilio, ana, 1).await;
    crate::texts_to(twilio, ben, 1).await;
    let ana_text = format!("/v1/messages/{}", sent[0]);
    let at_twilio = api
        .wait_get("Ana's text at Twilio", &ana_text, &advocate, |m| {
            m["status"] != "queued"
        })
        .await;
    assert_eq!(
        at_twilio["body"],
        "Your eviction hearing is Monday, Anabel."
    );
    let ana_sid = twilio
        .sent()
        .iter()
        .find(|m| m.to == ana)
        .unwrap()
        .sid
        .clone();
    let (s, flag) = api
        .post(
            &format!("{ana_text}/flags"),
            &officer,
            json!({"reason": "confidentiality", "note": "Names Anabel's landlord"}),
        )
        .await;
    assert_eq!(s, 201, "{flag}");

    // A hold stops the erasure, until it is lifted.
    let (s, hold) = api
        .post(
            "/v1/legal-holds",
            &admin,
            json!({"case_id": "E-1", "reason": "Quintero v. Lakeview Apts"}),
        )
        .await;
    assert_eq!(s, 201, "{hold}");
    assert_eq!(hold["reason"], "Quintero v. Lakeview Apts");
    let (s, e) = api
        .post(
            "/v1/clients/erase",
            &admin,
            json!({"phone": ana, "reason": "retention ended"}),
        )
        .await;
    assert_error_says(s, &e, 409, "conflict", "legal hold");
    let (s, held) = api.get("/v1/legal-holds", &officer).await;
    assert_eq!((s, held.as_array().unwrap().len()), (200, 1), "{held}");
    let (s, e) = api
        .post(
            "/v1/legal-holds",
            &admin,
            json!({"case_id": "E-1", "phone": ana, "reason": "x"}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "one of them");
    let lift = format!("/v1/legal-holds/{}", hold["id"].as_str().unwrap());
    let (s, _) = api.delete(&lift, &admin).await;
    assert_eq!(s, 204);
    let (s, e) = api.delete(&lift, &admin).await;
    assert_error(s, &e, 409, "conflict");

    // Erased: Twilio fails the first deletion; it is recorded and tried again.
    twilio.fail_next(1, 500, None);
    let (s, erased) = api
        .post(
            "/v1/clients/erase",
            &admin,
            json!({"case_id": "E-1", "reason": "retention ended"}),
        )
        .await;
    assert_eq!(s, 200, "{erased}");
    assert_eq!(erased, json!({"phone": ana, "cases": ["E-1"]}));
    let (s, e) = api
        .post(
            "/v1/clients/erase",
            &admin,
            json!({"phone": ana, "reason": "again"}),
        )
        .await;
    assert_error_says(s, &e, 409, "conflict", "erased already");

    let (_, case) = api.get("/v1/cases/E-1", &advocate).await;
    assert_eq!(case["client"]["name"], Value::Null, "{case}");
    let (_, text) = api.get(&ana_text, &advocate).await;
    assert_eq!(text["body"], Value::Null, "{text}");
    let (_, flags) = api.get("/v1/flags", &officer).await;
    let flag = flags
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == flag["id"])
        .unwrap()
        .clone();
    assert_eq!(
        (&flag["note"], &flag["erased"]),
        (&Value::Null, &json!(true)),
        "{flag}"
    );
    let (_, found) = api.get("/v1/search?q=eviction", &officer).await;
    let found = found["items"].as_array().unwrap();
    assert_eq!(found.len(), 1, "only Benedict's text: {found:?}");
    assert_eq!(found[0]["phone"], ben);
    let (_, other) = api
        .get(&format!("/v1/messages/{}", sent[1]), &advocate)
        .await;
    assert_eq!(other["body"], "Your eviction hearing is Tuesday, Benedict.");
    let (_, report) = api.get("/v1/audit/verify", &officer).await;
    assert_eq!(report["status"], "intact", "{report}");
    let erased_events = trail(api, &officer, "case_id=E-1").await;
    let queued = erased_events
        .iter()
        .find(|e| e["type"] == "OutboundQueued")
        .unwrap();
    assert_eq!(
        queued["payload"]["OutboundQueued"]["body"]["$sealed"]["erased"], true,
        "{queued}"
    );

    // Nothing readable of Ana anywhere in the database; Benedict's words still where the
    // search finds them (the scan sees what is there).
    let ben_words = crate::database_holds(database_url, "hearing is Tuesday").await;
    assert!(
        ben_words.contains(&"audit_texts.body".to_string()),
        "{ben_words:?}"
    );
    for words in ["Anabel", "Lakeview", "landlord", "hearing is Monday"] {
        assert_eq!(
            crate::database_holds(database_url, words).await,
            Vec::<String>::new(),
            "{words}"
        );
    }

    // The CMS is told; Twilio's copy deleted, after a failure recorded.
    let told = crate::wait_for(
        "client.erased at the CMS",
        std::time::Duration::from_secs(30),
        || async {
            cms.verified(&secret)
                .into_iter()
                .find(|w| w["type"] == "client.erased")
        },
    )
    .await;
    assert_eq!(
        told["data"],
        json!({"phone": ana, "cases": ["E-1"], "reason": "retention ended"})
    );
    crate::wait_for(
        "Twilio's copy deleted",
        std::time::Duration::from_secs(60),
        || async { (!twilio.sent().iter().any(|m| m.to == ana)).then_some(()) },
    )
    .await;
    assert_eq!(
        twilio.deleted(),
        std::slice::from_ref(&ana_sid),
        "Benedict's text stays"
    );
    assert!(twilio.sent().iter().any(|m| m.to == ben));
    let steps = trail(api, &officer, "type=ProviderDeleteFailed").await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    let deleted = crate::wait_for(
        "the deletion recorded",
        std::time::Duration::from_secs(30),
        || async {
            let d = trail(api, &officer, "type=ProviderCopyDeleted").await;
            (!d.is_empty()).then_some(d)
        },
    )
    .await;
    assert_eq!(
        deleted[0]["payload"]["ProviderCopyDeleted"]["provider_sid"],
        ana_sid.as_str()
    );
}

/// The retention policy: the report of who is due and when, a grace that holds them back,
/// then the erasure of the due client whose grace has passed, by casewire itself, and
/// never of a held one, an open one, or one closed too lately.
pub async fn retention(api: &Api) {
    let staff: Staff = roles::staff(api).await;
    let (admin, officer) = (staff.key("admin"), staff.key("compliance"));
    for (case, name, phone, status, closed) in [
        (
            "R-1",
            "Rosa Alvarado",
            "+13125550181",
            "closed",
            Some("2019-01-10"),
        ),
        (
            "R-2",
            "Raul Benitez",
            "+13125550182",
            "closed",
            Some("2019-02-01"),
        ),
        ("R-3", "Rita Campos", "+13125550183", "open", None),
        (
            "R-4",
            "Ramon Duarte",
            "+13125550184",
            "closed",
            Some("2026-11-01"),
        ),
    ] {
        let (s, c) = api
            .put(
                &format!("/v1/cases/{case}"),
                staff.key("integration"),
                json!({"client": {"name": name, "phone": phone}, "status": status, "closed_at": closed}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
    }
    let (s, hold) = api
        .post(
            "/v1/legal-holds",
            admin,
            json!({"case_id": "R-2", "reason": "Benitez appeal"}),
        )
        .await;
    assert_eq!(s, 201, "{hold}");
    let policy = format!("/v1/tenants/{}/retention", staff.tenant);
    let (s, e) = api
        .put(&policy, admin, json!({"erase_closed_cases_after": "PT4H"}))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "erase_closed_cases_after");
    let (s, e) = api
        .put(&policy, officer, json!({"erase_closed_cases_after": "P6Y"}))
        .await;
    assert_error(s, &e, 403, "forbidden");

    // A long grace: the report says who is due and when; nobody is erased yet.
    let (s, set) = api
        .put(
            &policy,
            admin,
            json!({"erase_closed_cases_after": "P6Y", "grace": "P10Y"}),
        )
        .await;
    assert_eq!(s, 200, "{set}");
    let (s, report) = api.get(&format!("{policy}/report"), officer).await;
    assert_eq!(s, 200, "{report}");
    let clients: Vec<(&str, bool)> = report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["phone"].as_str().unwrap(), c["held"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        clients,
        [("+13125550181", false), ("+13125550182", true)],
        "{report}"
    );
    assert_eq!(report["clients"][0]["due_on"], "2025-01-10");
    assert_eq!(report["clients"][0]["erase_on"], "2035-01-10");

    // No grace: the due client is erased by casewire; the held one is not.
    let (s, _) = api
        .put(
            &policy,
            admin,
            json!({"erase_closed_cases_after": "P6Y", "grace": "P0D"}),
        )
        .await;
    assert_eq!(s, 200);
    api.wait_get("R-1's client erased", "/v1/cases/R-1", admin, |c| {
        c["client"]["name"].is_null()
    })
    .await;
    for (case, name) in [
        ("R-2", "Raul Benitez"),
        ("R-3", "Rita Campos"),
        ("R-4", "Ramon Duarte"),
    ] {
        let (_, c) = api.get(&format!("/v1/cases/{case}"), admin).await;
        assert_eq!(c["client"]["name"], name, "{c}");
    }
    let erased = trail(api, officer, "type=ClientErased").await;
    assert_eq!(erased.len(), 1, "{erased:?}");
    assert_eq!(erased[0]["actor"], "system");
    assert_eq!(
        erased[0]["payload"]["ClientErased"]["reason"],
        "retention: every case closed more than P6Y ago"
    );
    let (_, report) = api.get(&format!("{policy}/report"), officer).await;
    assert_eq!(
        report["clients"].as_array().unwrap().len(),
        1,
        "only the held one: {report}"
    );
}
