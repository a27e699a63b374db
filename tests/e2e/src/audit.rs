//! The compliance officer's trail: read a page at a time, filtered by case, number,
//! person, type and time, with sealed fields opened, and every look recorded in it.

use serde_json::{json, Value};

use crate::roles::{self, Staff};
use crate::{assert_error, assert_error_says, Api};

/// Every page of `GET /v1/audit/events?{query}`, followed to its end.
async fn trail(api: &Api, key: &str, query: &str) -> Vec<Value> {
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
    let window = format!(
        "type=OutboundQueued&from={}&to=2099-01-01T00:00:00Z",
        urlencode(queued[1]["recorded_at"].as_str().unwrap())
    );
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

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
