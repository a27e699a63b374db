//! The bulk scenario every mode must pass (issue 14): what an advocate planning a clinic
//! announcement and a CMS vendor's engineer would notice. First part: the cases casewire
//! holds, listed by the audience filter, and an audience previewed (who is reached, who is
//! left out and why, what it costs), never across tenants.

use std::time::Duration;

use casewire_testkit::{wait_for, FakeCms, FakeTwilio};
use serde_json::{json, Value};

use crate::texting::{twilio_tenant, ACCOUNT_A, ACCOUNT_B, NUMBER_A, TOKEN_A, TOKEN_B};
use crate::{assert_error, assert_error_says, Api};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

pub async fn audiences(api: &Api, twilio: &FakeTwilio) {
    let (a, _) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let (b, _) = twilio_tenant(api, twilio, "Lakeside Legal", ACCOUNT_B, TOKEN_B).await;
    let advocate = api.key(&a, "advocate").await;
    let other = api.key(&b, "advocate").await;

    // Six cases: consumer (01) ones, one of them closed, a housing one (63); Ana has two.
    let ana = "+13125550101";
    let cases = [
        ("C-1", ana, "01", "open", None, "es"),
        ("C-2", ana, "01", "open", None, "es"),
        (
            "C-3",
            "+13125550103",
            "01",
            "closed",
            Some("2026-11-20"),
            "en",
        ),
        ("C-4", "+13125550104", "63", "open", None, "en"),
        ("C-5", "+13125550105", "01", "open", None, "en"),
        ("C-6", "+13125550106", "01", "open", None, "es-MX"),
    ];
    for (id, phone, problem, status, closed_at, language) in cases {
        let case = json!({
            "client": {"name": format!("Client {id}"), "phone": phone, "language": language},
            "status": status, "problem_code": problem, "office": "north",
            "advocates": ["adv-7"], "opened_at": "2026-01-10", "closed_at": closed_at,
        });
        let (s, c) = api.put(&format!("/v1/cases/{id}"), &advocate, case).await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["opened_at"], "2026-01-10", "{c}");
    }
    // Ana, C-3's and C-4's clients consented; C-5's opted out; C-6's never said.
    for (phone, state, method) in [
        (ana, "granted", "written"),
        ("+13125550103", "granted", "written"),
        ("+13125550104", "granted", "written"),
        ("+13125550105", "revoked", "verbal"),
    ] {
        let (s, r) = api
            .put(
                &format!("/v1/consents/{phone}"),
                &advocate,
                json!({"state": state, "method": method, "note": "at intake"}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, bad) = api
        .put(
            "/v1/cases/C-7",
            &advocate,
            json!({"client": {"name": "X", "phone": "+13125550107"}, "status": "open", "closed_at": "2026-11-20"}),
        )
        .await;
    assert_error_says(
        s,
        &bad,
        422,
        "validation_failed",
        "closed_at is for a closed case",
    );

    // The CMS checks what casewire holds, a page at a time.
    let (s, page) = api
        .get("/v1/cases?problem_codes=01&status=open&limit=2", &advocate)
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(ids(&page), ["C-1", "C-2"]);
    assert_eq!(page["next_after"], "C-2");
    assert_eq!(page["items"][0]["client"]["name"], "Client C-1");
    let (_, page) = api
        .get(
            "/v1/cases?problem_codes=01&status=open&limit=2&after=C-2",
            &advocate,
        )
        .await;
    assert_eq!(ids(&page), ["C-5", "C-6"]);
    let (_, page) = api
        .get(
            "/v1/cases?closed_from=2026-11-01&closed_to=2026-11-30",
            &advocate,
        )
        .await;
    assert_eq!(ids(&page), ["C-3"]);
    let (_, page) = api.get("/v1/cases?languages=es", &advocate).await;
    assert_eq!(ids(&page), ["C-1", "C-2", "C-6"], "es takes es-MX");
    let (s, e) = api.get("/v1/cases?opened_from=March", &advocate).await;
    assert_error_says(s, &e, 422, "validation_failed", "opened.from");
    let (s, e) = api.get("/v1/cases?status=pending", &advocate).await;
    assert_error_says(s, &e, 422, "validation_failed", "open, closed or any");
    let (_, theirs) = api.get("/v1/cases", &other).await;
    assert!(
        ids(&theirs).is_empty(),
        "another tenant sees none: {theirs}"
    );

    // The clinic's audience: open consumer cases.
    api.wait_until_every_service_is_caught_up().await;
    let clinic = json!({"filter": {"problem_codes": ["01"], "status": "open"}});
    let (s, p) = api
        .post("/v1/audiences/preview", &advocate, clinic.clone())
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["recipients"], 1, "Ana, once: {p}");
    assert_eq!(
        p["excluded"],
        json!({"revoked": 1, "no_consent": 1, "no_phone": 0, "duplicate_phone": 1, "recently_texted": 0})
    );
    assert_eq!(p["sample"], json!([{"case_id": "C-1", "language": "es"}]));
    assert!(p["cost_estimate_usd"].as_f64().unwrap() > 0.0, "{p}");
    let (_, theirs) = api.post("/v1/audiences/preview", &other, clinic).await;
    assert_eq!(
        theirs["recipients"], 0,
        "another tenant's cases are not theirs: {theirs}"
    );
    assert_eq!(theirs["excluded"]["duplicate_phone"], 0, "{theirs}");

    // Ana was texted today: an audience that leaves out clients texted this week skips her.
    let (s, m) = api
        .post(
            "/v1/cases/C-1/messages",
            &advocate,
            json!({"body": "See you Monday"}),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    let recent = json!({"filter": {"problem_codes": ["01"], "status": "open"}, "exclude_texted_within": "P7D"});
    let (_, p) = api.post("/v1/audiences/preview", &advocate, recent).await;
    assert_eq!(p["recipients"], 0, "{p}");
    assert_eq!(p["excluded"]["recently_texted"], 1, "{p}");

    for (body, says) in [
        (
            json!({"filter": {"languages": ["spanish!"]}}),
            "language tag",
        ),
        (
            json!({"exclude_texted_within": "a week"}),
            "exclude_texted_within",
        ),
        (json!({"filter": {"problem": ["01"]}}), "unknown field"),
    ] {
        let (s, e) = api.post("/v1/audiences/preview", &advocate, body).await;
        assert_error_says(s, &e, 422, "validation_failed", says);
    }
}

/// The texts the fake Twilio holds to each of `phones`, in order.
fn texts_to(twilio: &FakeTwilio, phone: &str) -> Vec<String> {
    twilio
        .sent()
        .into_iter()
        .filter(|m| m.to == phone)
        .map(|m| m.body)
        .collect()
}

/// The campaign's sender job has ended (paused, cancelled or done): the operator's status
/// shows no campaign job waiting.
async fn sender_stopped(api: &Api) {
    queue_idle(api, "messaging.campaigns").await;
}

/// The operator's status shows no job of `queue` waiting or running.
async fn queue_idle(api: &Api, queue: &str) {
    api.wait_get(
        &format!("the {queue} queue to be idle"),
        "/v1/status",
        crate::OPERATOR_TOKEN,
        |s| {
            s["services"].as_array().is_some_and(|services| {
                services.iter().all(|svc| {
                    svc["jobs"].as_array().is_none_or(|jobs| {
                        jobs.iter()
                            .filter(|q| q["queue"] == queue)
                            .all(|q| q["due"] == 0 && q["scheduled"] == 0)
                    })
                })
            })
        },
    )
    .await;
}

/// `n` open consumer cases (K-0…), each client consenting, in Spanish and English by turns,
/// their numbers from +1312555`first`: their numbers.
pub async fn clients(api: &Api, advocate: &str, first: usize, n: usize) -> Vec<String> {
    let phones: Vec<String> = (0..n)
        .map(|i| format!("+1312555{:04}", first + i))
        .collect();
    for (i, phone) in phones.iter().enumerate() {
        let language = if i % 2 == 0 { "es" } else { "en" };
        let case = json!({
            "client": {"name": format!("Cliente{i} Apellido"), "phone": phone, "language": language},
            "status": "open", "problem_code": "01",
        });
        let (s, c) = api.put(&format!("/v1/cases/K-{i}"), advocate, case).await;
        assert_eq!(s, 201, "{c}");
        let (s, r) = api
            .put(
                &format!("/v1/consents/{phone}"),
                advocate,
                json!({"state": "granted", "method": "written", "note": "intake form"}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    api.wait_until_every_service_is_caught_up().await;
    phones
}

/// The clinic announcement to open consumer cases, at `per_second` segments a second.
pub fn clinic(per_second: f64) -> Value {
    json!({
        "name": "Consumer rights clinic", "kind": "announcement",
        "filter": {"problem_codes": ["01"], "status": "open"},
        "messages": {
            "en": "{organization.name}: Hi {client.first_name}, free consumer clinic Saturday 10am. Reply STOP to stop.",
            "es": "{organization.name}: Hola {client.first_name}, clinica gratuita el sabado 10am. Responda STOP para parar.",
        },
        "rate": {"per_second": per_second},
    })
}

/// A clinic announcement to six consenting clients, two a second: drafted with its
/// estimate, launched, paused (nothing more goes), a client's STOP while paused, resumed,
/// and done: every other client texted once, in their language, by name.
pub async fn campaigns(api: &Api, twilio: &FakeTwilio) {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let (b, _) = twilio_tenant(api, twilio, "Lakeside Legal", ACCOUNT_B, TOKEN_B).await;
    let advocate = api.key(&a, "advocate").await;
    let other = api.key(&b, "advocate").await;
    // The scenario runs at any hour: no quiet hours for this tenant.
    let (s, _) = api
        .put(
            &format!("/v1/tenants/{a}/policy"),
            &admin,
            json!({"quiet_hours": null}),
        )
        .await;
    assert_eq!(s, 200);
    let phones = clients(api, &advocate, 2000, 6).await;
    let plan = clinic(2.0);
    let mut bad = plan.clone();
    bad["messages"]["en"] = json!("Hi {client.name}");
    let (s, e) = api.post("/v1/campaigns", &advocate, bad).await;
    assert_error_says(
        s,
        &e,
        422,
        "validation_failed",
        "unknown variable {client.name}",
    );
    let (s, draft) = api.post("/v1/campaigns", &advocate, plan).await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["estimate"]["recipients"], 6, "{draft}");
    assert!(
        draft["estimate"]["cost_usd"].as_f64().unwrap() > 0.0,
        "{draft}"
    );
    assert!(
        phones.iter().all(|p| texts_to(twilio, p).is_empty()),
        "a draft sends nothing"
    );
    let id = draft["id"].as_str().unwrap().to_string();
    let path = |step: &str| format!("/v1/campaigns/{id}/{step}");

    // Another tenant cannot see it, launch it or stop it.
    let (s, _) = api.get(&format!("/v1/campaigns/{id}"), &other).await;
    assert_eq!(s, 404);
    let (s, _) = api.post(&path("launch"), &other, json!({})).await;
    assert_eq!(s, 404);

    let (s, running) = api.post(&path("launch"), &advocate, json!({})).await;
    assert_eq!(s, 200, "{running}");
    assert_eq!(running["state"], "running");
    assert_eq!(running["counts"]["recipients"], 6, "{running}");
    let (s, e) = api.post(&path("launch"), &advocate, json!({})).await;
    assert_error_says(s, &e, 409, "conflict", "cannot be launched again");
    let (s, e) = api.post(&path("explode"), &advocate, json!({})).await;
    assert_eq!(s, 400, "{e}");
    assert!(e.to_string().contains("launch"), "the steps there are: {e}");

    // Paused: the sender stops, and what went before stays what went.
    let (s, paused) = api.post(&path("pause"), &advocate, json!({})).await;
    assert_eq!(s, 200, "{paused}");
    assert_eq!(paused["state"], "paused");
    sender_stopped(api).await;
    // And every text it queued before the pause is at Twilio: who has none is still waiting.
    api.wait_until_every_service_is_caught_up().await;
    let (_, at_pause) = api.get(&format!("/v1/campaigns/{id}"), &advocate).await;
    let pending = at_pause["counts"]["pending"].as_u64().unwrap();
    assert!(
        pending >= 1,
        "two a second: some wait when paused at once: {at_pause}"
    );
    // A client still waiting says STOP (recorded by their advocate) while it is paused.
    let stopper = phones
        .iter()
        .rev()
        .find(|p| texts_to(twilio, p).is_empty())
        .expect("a client not texted yet")
        .clone();
    let (s, r) = api
        .put(
            &format!("/v1/consents/{stopper}"),
            &advocate,
            json!({"state": "revoked", "method": "verbal", "note": "asked to stop on the phone"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    api.wait_until_every_service_is_caught_up().await;

    let (s, resumed) = api.post(&path("resume"), &advocate, json!({})).await;
    assert_eq!(s, 200, "{resumed}");
    let done = api
        .wait_get(
            "the campaign to complete",
            &format!("/v1/campaigns/{id}"),
            &advocate,
            |c| c["state"] == "completed",
        )
        .await;
    let counts = &done["counts"];
    assert_eq!(counts["skipped"], json!({"revoked": 1}), "{done}");
    assert_eq!(counts["pending"], 0, "{done}");
    for (i, phone) in phones.iter().enumerate() {
        if *phone == stopper {
            assert!(
                texts_to(twilio, phone).is_empty(),
                "a STOP before their text stops it"
            );
            continue;
        }
        let texts = crate::texts_to(twilio, phone, 1).await;
        assert_eq!(texts.len(), 1, "{phone} texted once: {texts:?}");
        let greeting = if i % 2 == 0 {
            "Hola Cliente"
        } else {
            "Hi Cliente"
        };
        assert!(
            texts[0].starts_with(&format!("Prairie Legal Aid: {greeting}{i},")),
            "{texts:?}"
        );
    }
    // Each text names what started its sender: the launch, or the resume after the pause.
    let mut starts = Vec::new();
    for step in ["CampaignLaunched", "CampaignResumed"] {
        let events = crate::audit::trail(api, &admin, &format!("type={step}")).await;
        assert_eq!(events.len(), 1, "{events:?}");
        starts.push(events[0]["event_id"].clone());
    }
    let queued = crate::audit::trail(api, &admin, "type=OutboundQueued").await;
    let caused = queued
        .iter()
        .filter(|e| starts.contains(&e["metadata"]["causation_id"]))
        .count();
    assert_eq!(caused, phones.len() - 1, "{queued:?}");
    let (s, e) = api.post(&path("pause"), &advocate, json!({})).await;
    assert_error_says(s, &e, 409, "conflict", "completed");
}

/// A survey of four consenting clients after their cases, with a branch: "Did we help?"
/// (yes: how well, 1 to 5; no: straight to the comment), then a comment. Each reply lands
/// on the client's thread; the answers come back per question and as a CSV; keywords are
/// never answers; another tenant sees none of it.
pub async fn surveys(api: &Api, twilio: &FakeTwilio) {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let (b, _) = twilio_tenant(api, twilio, "Lakeside Legal", ACCOUNT_B, TOKEN_B).await;
    let advocate = api.key(&a, "advocate").await;
    let other = api.key(&b, "advocate").await;
    let (s, p) = api
        .put(
            &format!("/v1/tenants/{a}/policy"),
            &admin,
            json!({"quiet_hours": null, "bulk_rate": null}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let phones = clients(api, &advocate, 4000, 4).await;
    // The CMS takes every answer as it comes.
    let cms = FakeCms::start().await;
    let (s, endpoint) = api
        .post(
            "/v1/webhook-endpoints",
            &admin,
            json!({"url": format!("{}/casewire", cms.url()), "events": ["survey.answered"]}),
        )
        .await;
    assert_eq!(s, 201, "{endpoint}");
    let secret = casewire_webhooks::Secret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    let mut plan = json!({
        "name": "Outcome survey", "kind": "survey",
        "filter": {"problem_codes": ["01"]},
        "messages": {
            "en": "{organization.name}: Hi {client.first_name}, three quick questions about your case.",
            "es": "{organization.name}: Hola {client.first_name}, tres preguntas sobre su caso.",
        },
        "survey": {
            "questions": [
                {"id": "helped", "answer": "yes_no", "next": {"no": "comment"},
                 "text": {"en": "Did we help you? Reply YES or NO.", "es": "¿Le ayudamos? Responda SÍ o NO."}},
                {"id": "rating", "answer": {"scale": {"min": 1, "max": 5}},
                 "text": {"en": "How well, from 1 to 5?", "es": "¿Qué tan bien, del 1 al 5?"}},
                {"id": "comment", "answer": "free_text",
                 "text": {"en": "Anything else to tell us?", "es": "¿Algo más que decirnos?"}}
            ],
            "expires": "P3D"
        }
    });
    let mut bad = plan.clone();
    bad["survey"]["questions"][2]["next"] = json!({"*": "helped"});
    let (s, e) = api.post("/v1/campaigns", &advocate, bad).await;
    assert_error_says(s, &e, 422, "validation_failed", "not a later question");
    plan["kind"] = json!("announcement");
    let (s, e) = api.post("/v1/campaigns", &advocate, plan.clone()).await;
    assert_error_says(
        s,
        &e,
        422,
        "validation_failed",
        "only a campaign of kind survey",
    );
    plan["kind"] = json!("survey");
    let (s, draft) = api.post("/v1/campaigns", &advocate, plan).await;
    assert_eq!(s, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_string();
    let (s, c) = api
        .post(&format!("/v1/campaigns/{id}/launch"), &advocate, json!({}))
        .await;
    assert_eq!(s, 200, "{c}");

    // The opening text asks the first question, in the client's language.
    for (i, phone) in phones.iter().enumerate() {
        let first = crate::texts_to(twilio, phone, 1).await;
        let question = if i % 2 == 0 {
            "\n\n¿Le ayudamos? Responda SÍ o NO."
        } else {
            "\n\nDid we help you? Reply YES or NO."
        };
        assert!(first[0].ends_with(question), "{first:?}");
    }
    let inbound = format!("{}/webhooks/twilio/{a}/inbound", api.base);
    let reply = |phone: &str, body: &str| {
        let (inbound, phone, body) = (inbound.clone(), phone.to_string(), body.to_string());
        async move {
            let (s, _) = twilio
                .send_inbound(&inbound, ACCOUNT_A, &phone, NUMBER_A, &body, None)
                .await;
            assert_eq!(s, 200);
        }
    };
    // Client 0: yes (in Spanish, with words around it), four, a comment: the whole way.
    reply(&phones[0], "Sí, gracias").await;
    let texts = crate::texts_to(twilio, &phones[0], 2).await;
    assert_eq!(texts[1], "¿Qué tan bien, del 1 al 5?");
    reply(&phones[0], "cuatro").await;
    let texts = crate::texts_to(twilio, &phones[0], 3).await;
    assert_eq!(texts[2], "¿Algo más que decirnos?");
    reply(&phones[0], "Muy amables, gracias").await;
    // Client 1: no, which leads straight to the comment.
    reply(&phones[1], "No").await;
    let texts = crate::texts_to(twilio, &phones[1], 2).await;
    assert_eq!(texts[1], "Anything else to tell us?");
    reply(&phones[1], "=nobody called me back").await;
    // Client 2: HELP is consent's (its answer is the HELP text, not a question again);
    // then a reply that is no answer is asked again once, then kept as words.
    reply(&phones[2], "AYUDA").await;
    let texts = crate::texts_to(twilio, &phones[2], 2).await;
    assert!(
        !texts[1].contains("SÍ o NO"),
        "HELP is not an answer: {texts:?}"
    );
    reply(&phones[2], "tal vez").await;
    let texts = crate::texts_to(twilio, &phones[2], 3).await;
    assert!(
        texts[2].starts_with("Perdón, no entendimos. Responda SÍ o NO.\n¿Le ayudamos?"),
        "{texts:?}"
    );
    reply(&phones[2], "no lo sé").await;
    let texts = crate::texts_to(twilio, &phones[2], 4).await;
    assert_eq!(
        texts[3], "¿Qué tan bien, del 1 al 5?",
        "kept as words, on to the next"
    );
    // Client 3: STOP is never an answer.
    reply(&phones[3], "STOP").await;

    let results = api
        .wait_get(
            "every answer counted",
            &format!("/v1/campaigns/{id}/results"),
            &advocate,
            |r| r["questions"][2]["answered"] == 2 && r["questions"][0]["answered"] == 3,
        )
        .await;
    assert_eq!(
        (&results["texted"], &results["responded"]),
        (&json!(4), &json!(3)),
        "{results}"
    );
    let q = &results["questions"];
    assert_eq!(q[0]["id"], "helped");
    assert_eq!(q[0]["asked"], 4, "{results}");
    assert_eq!(q[0]["answers"], json!({"yes": 1, "no": 1, "text": 1}));
    assert_eq!(q[0]["kept_as_words"], 1);
    assert_eq!((&q[1]["asked"], &q[1]["answered"]), (&json!(2), &json!(1)));
    assert_eq!(q[1]["answers"], json!({"4": 1}));
    assert_eq!(q[1]["response_rate"], 0.5);
    assert_eq!(q[2]["answers"], json!({"text": 2}));
    assert!(q[0]["median_seconds_to_answer"].as_f64().unwrap() >= 0.0);

    // Finished surveys ask nothing more; STOP got consent's confirmation only.
    queue_idle(api, "messaging.survey-replies").await;
    api.wait_until_every_service_is_caught_up().await;
    queue_idle(api, "messaging.dispatch").await;
    assert_eq!(texts_to(twilio, &phones[0]).len(), 3);
    assert_eq!(texts_to(twilio, &phones[1]).len(), 2);
    assert!(
        texts_to(twilio, &phones[3])
            .iter()
            .all(|t| !t.contains("How well") && !t.contains("Anything else")),
        "STOP is not an answer"
    );

    // The replies are on the client's thread, with the questions.
    let thread = api
        .wait_get(
            "the replies on the thread",
            "/v1/cases/K-1/messages",
            &advocate,
            |t| t.as_array().unwrap().len() == 4,
        )
        .await;
    let bodies: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies[1..],
        ["No", "Anything else to tell us?", "=nobody called me back"],
        "{thread}"
    );

    // The CSV: one row per recipient, the words opened, safe for a spreadsheet.
    let (s, csv) = api
        .get(&format!("/v1/campaigns/{id}/results.csv"), &advocate)
        .await;
    assert_eq!(s, 200, "{csv}");
    let csv = csv.as_str().expect("text, not JSON");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "n,case_id,language,status,error_code,helped,helped_text,helped_answered_at,\
         rating,rating_text,rating_answered_at,comment,comment_text,comment_answered_at"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines[1].starts_with("0,K-0,es,accepted,,yes,\"Sí, gracias\","),
        "{csv}"
    );
    assert!(lines[1].contains(",4,cuatro,"), "{csv}");
    assert!(lines[2].contains(",no,No,"), "{csv}");
    assert!(lines[2].contains(",text,'=nobody called me back,"), "{csv}");
    assert!(lines[3].contains(",text,no lo sé,"), "{csv}");

    // The CMS has each answer, signed, with the client's words and the case to file it on.
    let answers = wait_for(
        "the CMS to have the six answers",
        Duration::from_secs(30),
        || async {
            let got = cms.verified(&secret);
            (got.len() >= 6).then_some(got)
        },
    )
    .await;
    assert_eq!(answers.len(), 6, "each answer once: {answers:?}");
    let comment = answers
        .iter()
        .find(|w| w["data"]["case_id"] == "K-1" && w["data"]["question"] == "comment")
        .expect("client 1's comment");
    assert_eq!(comment["type"], "survey.answered");
    assert_eq!(
        (
            &comment["data"]["answer"],
            &comment["data"]["text"],
            &comment["data"]["campaign_id"]
        ),
        (&json!("text"), &json!("=nobody called me back"), &json!(id)),
        "{comment}"
    );

    // An outcome-survey rule: made, listed, shown, deleted; never across tenants. (Its
    // sending after the delay is tested with a clock: services/messaging/tests.)
    let rule = json!({
        "on": "case_closed", "filter": {"problem_codes": ["01"]}, "delay": "P3D",
        "campaign": {
            "name": "Consumer outcomes",
            "messages": {"en": "{organization.name}: your case is closed."},
            "survey": {"questions": [{"id": "helped", "answer": "yes_no", "text": {"en": "Did we help?"}}]}
        }
    });
    let mut bad = rule.clone();
    bad["campaign"]["messages"] = json!({});
    let (s, e) = api.post("/v1/survey-rules", &advocate, bad).await;
    assert_error_says(s, &e, 422, "validation_failed", "campaign.messages");
    let (s, made) = api.post("/v1/survey-rules", &advocate, rule).await;
    assert_eq!(s, 201, "{made}");
    let rule_id = made["id"].as_str().unwrap().to_string();
    let (s, list) = api.get("/v1/survey-rules", &advocate).await;
    assert_eq!(
        (s, list["items"].as_array().unwrap().len()),
        (200, 1),
        "{list}"
    );
    let (s, campaign) = api
        .get(
            &format!("/v1/campaigns/{}", made["campaign_id"].as_str().unwrap()),
            &advocate,
        )
        .await;
    assert_eq!(
        (s, &campaign["state"]),
        (200, &json!("running")),
        "{campaign}"
    );
    for (s, _) in [
        api.get(&format!("/v1/survey-rules/{rule_id}"), &other)
            .await,
        api.delete(&format!("/v1/survey-rules/{rule_id}"), &other)
            .await,
    ] {
        assert_eq!(s, 404, "another tenant's rule");
    }
    let (s, _) = api
        .delete(&format!("/v1/survey-rules/{rule_id}"), &advocate)
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .get(&format!("/v1/survey-rules/{rule_id}"), &advocate)
        .await;
    assert_eq!(s, 404, "deleted");

    // Another tenant's key: 404 for the results and the CSV.
    let (s, _) = api
        .get(&format!("/v1/campaigns/{id}/results"), &other)
        .await;
    assert_eq!(s, 404);
    let (s, _) = api
        .get(&format!("/v1/campaigns/{id}/results.csv"), &other)
        .await;
    assert_eq!(s, 404);
}

/// Four eyes on a blast: where the policy asks for an approval, the key that drafted a
/// campaign cannot launch it alone; another admin's approval, or launch, lets it go.
pub async fn four_eyes(api: &Api, twilio: &FakeTwilio) {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let second = api.key(&a, "admin").await;
    let advocate = api.key(&a, "advocate").await;
    let policy = format!("/v1/tenants/{a}/policy");
    let (s, e) = api
        .put(&policy, &admin, json!({"approvals_required": 5}))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "approvals_required");
    let (s, p) = api
        .put(
            &policy,
            &admin,
            json!({"quiet_hours": null, "bulk_rate": null, "approvals_required": 1}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    clients(api, &advocate, 5000, 2).await;
    let draft = |key: String| async move {
        let (s, c) = api.post("/v1/campaigns", &key, clinic(10.0)).await;
        assert_eq!(s, 201, "{c}");
        c["id"].as_str().unwrap().to_string()
    };
    let step = |id: &str, step: &str| format!("/v1/campaigns/{id}/{step}");

    // An advocate's campaign: their launch waits for an admin's approval.
    let id = draft(advocate.clone()).await;
    let (s, e) = api.post(&step(&id, "launch"), &advocate, json!({})).await;
    assert_error_says(s, &e, 409, "conflict", "approved by 0 so far");
    let (s, e) = api.post(&step(&id, "approve"), &advocate, json!({})).await;
    assert_error(s, &e, 403, "forbidden");
    let (s, c) = api.post(&step(&id, "approve"), &admin, json!({})).await;
    assert_eq!((s, &c["state"]), (200, &json!("draft")), "{c}");
    let (s, c) = api.post(&step(&id, "launch"), &advocate, json!({})).await;
    assert_eq!((s, &c["state"]), (200, &json!("running")), "{c}");

    // An admin's campaign: not launched, nor approved, by the same key; another admin's
    // launch is the second pair of eyes.
    let id = draft(admin.clone()).await;
    let (s, e) = api.post(&step(&id, "launch"), &admin, json!({})).await;
    assert_error_says(s, &e, 409, "conflict", "approved by 0 so far");
    let (s, e) = api.post(&step(&id, "approve"), &admin, json!({})).await;
    assert_error_says(s, &e, 409, "conflict", "cannot approve it");
    let (s, c) = api.post(&step(&id, "launch"), &second, json!({})).await;
    assert_eq!((s, &c["state"]), (200, &json!("running")), "{c}");

    // A survey rule would launch with nobody's approval: refused while approvals stand.
    let (s, e) = api
        .post(
            "/v1/survey-rules",
            &admin,
            json!({"on": "case_closed", "delay": "P3D", "campaign": {"name": "Outcomes",
                   "messages": {"en": "How did it go?"},
                   "survey": {"questions": [{"id": "q", "answer": "free_text", "text": {"en": "Tell us"}}]}}}),
        )
        .await;
    assert_error_says(s, &e, 409, "conflict", "approvals_required");
}
