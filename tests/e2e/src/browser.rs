//! The console in a real browser (issue 16): headless Chromium over WebDriver, each page
//! saved as a screenshot (target/console-screenshots, named with the mode) and audited
//! for accessibility (axe-core, WCAG 2.1 A and AA: no serious or critical violation).
//! Each scenario runs against either mode: `base` is the gateway's URL, `database_url`
//! the store behind it.

use std::time::Duration;

use casewire_testkit::{wait_for, Browser};
use serde_json::json;

use crate::Api;

/// The screenshots' prefix: none for the embedded mode, `distributed-` for the other.
fn mode() -> &'static str {
    if std::env::var_os("CASEWIRE_E2E_DISTRIBUTED").is_some() {
        "distributed-"
    } else {
        ""
    }
}

/// Goes to `path`, checks that the page's main part says `says`, and looks at it.
async fn visit(browser: &Browser, base: &str, path: &str, says: &str, name: &str) {
    browser.client.goto(&format!("{base}{path}")).await.unwrap();
    let main = browser.text("main").await.unwrap();
    assert!(main.contains(says), "{path}: {main}");
    look(browser, name).await;
}

/// Screenshots the page and fails on any serious accessibility violation.
async fn look(browser: &Browser, name: &str) {
    let name = format!("{}{name}", mode());
    browser.screenshot(&name).await.unwrap();
    let violations = browser.accessibility().await.unwrap();
    let serious: Vec<_> = violations
        .iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect();
    assert!(serious.is_empty(), "{name}: {serious:#?}");
}
pub async fn a_compliance_officer_signs_in_and_reads_the_verified_trail(api: &Api) {
    let base = &api.base;
    let (_, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (s, invited) = api
        .post(
            "/v1/users",
            &admin,
            json!({"name": "Ana Ruiz", "email": "ana@prairie.example", "role": "compliance"}),
        )
        .await;
    assert_eq!(s, 201, "{invited}");
    let link = invited["invitation_url"].as_str().unwrap();
    let link = format!("{}{}", base, &link[link.find("/console/").unwrap()..]);

    for (width, suffix) in [(1280, ""), (390, "-phone")] {
        let browser = Browser::start(width).await.unwrap();
        let b = &browser.client;
        if suffix.is_empty() {
            b.goto(&link).await.unwrap();
            look(&browser, "invitation").await;
            let password = "maple river lantern seven";
            browser.fill("password", password).await.unwrap();
            browser.fill("again", password).await.unwrap();
            browser.press("Set my password").await.unwrap();
        } else {
            b.goto(&format!("{}/console/sign-in", base)).await.unwrap();
        }
        assert!(b
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/sign-in"));
        look(&browser, &format!("sign-in{suffix}")).await;

        browser.fill("email", "ana@prairie.example").await.unwrap();
        browser
            .fill("password", "not my password at all")
            .await
            .unwrap();
        browser.press("Sign in").await.unwrap();
        assert_eq!(
            browser.text("[role=alert]").await.unwrap(),
            "The email or the password is wrong."
        );
        look(&browser, &format!("sign-in-wrong{suffix}")).await;

        browser
            .fill("password", "maple river lantern seven")
            .await
            .unwrap();
        browser.press("Sign in").await.unwrap();
        assert!(browser
            .text("main")
            .await
            .unwrap()
            .contains("Prairie Legal Aid"));
        look(&browser, &format!("home{suffix}")).await;

        b.goto(&format!("{}/console/trail", base)).await.unwrap();
        let badge = browser.text(".badge").await.unwrap();
        assert!(badge.starts_with("Intact:"), "{badge}");
        look(&browser, &format!("trail{suffix}")).await;
        b.goto(&format!("{}/console/account", base)).await.unwrap();
        assert!(browser
            .text("main")
            .await
            .unwrap()
            .contains("Two-step sign-in is off"));
        look(&browser, &format!("account{suffix}")).await;
        b.clone().close().await.unwrap();
    }

    // Wrong again and again: the fifth failure locks the account, and the page says until
    // when.
    let browser = Browser::start(1280).await.unwrap();
    let mut said = String::new();
    for _ in 0..5 {
        sign_in(
            &browser,
            base,
            "ana@prairie.example",
            "still not my password",
        )
        .await;
        said = browser.text("[role=alert]").await.unwrap();
        if said.contains("locked until") {
            break;
        }
    }
    assert!(said.contains("this account is locked until"), "{said}");
    look(&browser, "sign-in-locked").await;
    browser.client.clone().close().await.unwrap();
}

/// Signs in through the sign-in page.
async fn sign_in(browser: &Browser, base: &str, email: &str, password: &str) {
    browser
        .client
        .goto(&format!("{base}/console/sign-in"))
        .await
        .unwrap();
    browser.fill("email", email).await.unwrap();
    browser.fill("password", password).await.unwrap();
    browser.press("Sign in").await.unwrap();
}

pub async fn an_advocate_texts_a_client_sees_it_delivered_and_files_an_unrouted_text(api: &Api) {
    let base = &api.base;
    let (_, admin) = api.sandbox_tenant("Prairie Legal Aid").await;
    let (_, other) = api.sandbox_tenant("Lakeside Legal").await;
    for (key, case, phone) in [
        (&admin, "C-1", "+13125550161"),
        (&other, "C-9", "+13125550199"),
    ] {
        let (s, c) = api
            .put(
                &format!("/v1/cases/{case}"),
                key,
                json!({"client": {"name": "Ana Díaz", "phone": phone}, "advocates": ["a.lee"]}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
    }
    // A court date on C-1: its reminders show on the case's page.
    let starts = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (s, a) = api
        .put(
            "/v1/cases/C-1/appointments/H-1",
            &admin,
            json!({"kind": "court_date", "starts_at": starts, "location": "Daley Center"}),
        )
        .await;
    assert!(s < 300, "{a}");
    let password = "copper meadow violin ninety";
    crate::console::person(
        api,
        &admin,
        "Lee Park",
        "lee@prairie.example",
        "advocate",
        password,
    )
    .await;
    let browser = Browser::start(1280).await.unwrap();
    let b = &browser.client;
    sign_in(&browser, base, "lee@prairie.example", password).await;

    // The case list leads to the thread; a text sent from the box goes, and shows delivered.
    b.goto(&format!("{}/console/cases", base)).await.unwrap();
    look(&browser, "cases").await;
    b.find(fantoccini::Locator::LinkText("C-1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The box says what the text costs as it is typed: 175 GSM-7 characters, two segments.
    let long = "Your hearing moved to Monday at 9. ".repeat(5);
    browser.fill("body", long.trim_end()).await.unwrap();
    wait_for(
        "the box to count two segments",
        Duration::from_secs(10),
        || async {
            let said = browser.text("#cost").await.unwrap();
            said.starts_with("2 segments, GSM-7").then_some(())
        },
    )
    .await;
    browser.press("Send").await.unwrap();
    wait_for(
        "the text to show delivered",
        Duration::from_secs(30),
        || async {
            b.refresh().await.unwrap();
            let thread = browser.text(".thread").await.unwrap();
            (thread.contains("Your hearing moved to Monday at 9.") && thread.contains("delivered"))
                .then_some(())
        },
    )
    .await;
    let page = browser.text("main").await.unwrap();
    assert!(
        page.contains("Consent to reminders and bulk texts: none"),
        "{page}"
    );
    assert!(page.contains("H-1") && page.contains("P7D"), "{page}");
    look(&browser, "thread").await;
    // In Spanish: the link at the foot of the page, kept for the pages after.
    b.find(fantoccini::Locator::LinkText("Español"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for("the page in Spanish", Duration::from_secs(10), || async {
        let said = browser.text("button[type=submit]:not(.link)").await.ok()?;
        (said == "Enviar").then_some(())
    })
    .await;
    look(&browser, "thread-es").await;
    b.find(fantoccini::Locator::LinkText("English"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // A client's text from a number of no case waits in the inbox, and is filed from there.
    let (s, _) = api
        .post(
            "/v1/sandbox/inbound",
            &admin,
            json!({"from": "+13125550177", "body": "Is this Lee? I lost my papers"}),
        )
        .await;
    assert!(s < 300, "{s}");
    wait_for("the text in the inbox", Duration::from_secs(30), || async {
        b.goto(&format!("{}/console/inbox", base)).await.unwrap();
        browser
            .text("main")
            .await
            .unwrap()
            .contains("I lost my papers")
            .then_some(())
    })
    .await;
    look(&browser, "inbox").await;
    browser.fill("case_id", "C-1").await.unwrap();
    browser.press("File on the case").await.unwrap();
    assert!(b
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/cases/C-1"));
    wait_for(
        "the filed text on the thread",
        Duration::from_secs(30),
        || async {
            let thread = browser.text(".thread").await.unwrap();
            if thread.contains("I lost my papers") {
                return Some(());
            }
            b.refresh().await.unwrap();
            None
        },
    )
    .await;

    // Another organization's case is not found, as through the API.
    b.goto(&format!("{}/console/cases/C-9", base))
        .await
        .unwrap();
    assert_eq!(browser.text("h1").await.unwrap(), "Not found");
    look(&browser, "not-found").await;

    // The compliance officer's pages are not an advocate's: the API's own refusal.
    for page in ["/console/trail", "/console/search", "/console/flags"] {
        b.goto(&format!("{base}{page}")).await.unwrap();
        assert_eq!(
            browser.text("h1").await.unwrap(),
            "Not for your role",
            "{page}"
        );
    }
    look(&browser, "not-for-your-role").await;
    b.clone().close().await.unwrap();
}

pub async fn an_officer_finds_a_text_flags_it_and_sees_a_tampered_trail_broken(
    api: &Api,
    database_url: &str,
) {
    let base = &api.base;
    let (tenant, admin) = api.sandbox_tenant("Prairie Legal Aid").await;
    let (s, c) = api
        .put(
            "/v1/cases/C-1",
            &admin,
            json!({"client": {"name": "Ana Díaz", "phone": "+13125550161"}}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, sent) = api
        .post(
            "/v1/cases/C-1/messages",
            &admin,
            json!({"body": "Please send your SSN by Friday."}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    let password = "harbor willow pencil thirty";
    crate::console::person(
        api,
        &admin,
        "Rosa Vega",
        "rosa@prairie.example",
        "compliance",
        password,
    )
    .await;
    let browser = Browser::start(1280).await.unwrap();
    let b = &browser.client;
    sign_in(&browser, base, "rosa@prairie.example", password).await;

    // Found by a word, flagged from the results, in the queue after.
    b.goto(&format!("{}/console/search", base)).await.unwrap();
    browser.fill("q", "ssn").await.unwrap();
    browser.press("Search").await.unwrap();
    wait_for("the text to be found", Duration::from_secs(30), || async {
        let found = browser.text("main").await.unwrap();
        if found.contains("Please send your SSN by Friday.") {
            return Some(());
        }
        b.refresh().await.unwrap();
        None
    })
    .await;
    look(&browser, "search").await;
    browser
        .fill("note", "An SSN asked for by text")
        .await
        .unwrap();
    browser.press("Flag").await.unwrap();
    assert!(b
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/flags"));
    let queue = browser.text("main").await.unwrap();
    assert!(
        queue.contains("confidentiality") && queue.contains("An SSN asked for by text"),
        "{queue}"
    );
    look(&browser, "flags").await;

    // An event in full, and a checkpoint signed to keep outside casewire.
    visit(&browser, base, "/console/trail/1", "TenantCreated", "event").await;
    b.goto(&format!("{base}/console/checkpoints"))
        .await
        .unwrap();
    browser.press("Sign a checkpoint now").await.unwrap();
    assert!(browser
        .text("main")
        .await
        .unwrap()
        .contains("casewire.audit/"));
    look(&browser, "checkpoints").await;

    // The trail is intact; a row changed behind casewire's back breaks it, at that seq.
    b.goto(&format!("{}/console/trail", base)).await.unwrap();
    assert!(browser.text(".badge").await.unwrap().starts_with("Intact:"));
    let store = casewire_eventstore::EventStore::new(
        casewire_eventstore::Db::connect(database_url)
            .await
            .unwrap(),
        casewire_crypto::Key::generate(),
    );
    let backdate = format!(
        "UPDATE events SET recorded_at = '2026-01-01T00:00:00.000000Z' WHERE tenant_id = '{tenant}' AND tenant_seq = 3"
    );
    casewire_eventstore::tamper::tamper(&store, &[&backdate])
        .await
        .unwrap();
    b.refresh().await.unwrap();
    let badge = browser.text(".badge").await.unwrap();
    assert!(badge.starts_with("Broken at seq 3:"), "{badge}");
    look(&browser, "trail-broken").await;

    // An officer reads the thread but may not text from it: the API's 403, said above
    // the box, the text kept.
    b.goto(&format!("{}/console/cases/C-1", base))
        .await
        .unwrap();
    browser.fill("body", "Hello from compliance").await.unwrap();
    browser.press("Send").await.unwrap();
    let refused = browser.text("[role=alert]").await.unwrap();
    assert!(refused.contains("may not do this"), "{refused}");
    b.clone().close().await.unwrap();
}

pub async fn an_admin_sets_quiet_hours_and_invites_a_user(api: &Api) {
    let base = &api.base;
    let (tenant, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let password = "granite orchard bicycle four";
    crate::console::person(
        api,
        &admin,
        "Mia Chen",
        "mia@prairie.example",
        "admin",
        password,
    )
    .await;
    let browser = Browser::start(1280).await.unwrap();
    let b = &browser.client;
    sign_in(&browser, base, "mia@prairie.example", password).await;

    b.goto(&format!("{}/console/admin/policy", base))
        .await
        .unwrap();
    look(&browser, "policy").await;
    browser.fill("quiet_start", "9pm").await.unwrap();
    browser.press("Save the policy").await.unwrap();
    let problem = browser.text("[role=alert]").await.unwrap();
    assert!(problem.contains("quiet_hours.start"), "{problem}");
    browser.fill("quiet_start", "20:30").await.unwrap();
    browser.fill("contact", "(312) 555-0199").await.unwrap();
    browser.press("Save the policy").await.unwrap();
    let (_, policy) = api
        .get(&format!("/v1/tenants/{tenant}/policy"), &admin)
        .await;
    assert_eq!(
        (&policy["quiet_hours"]["start"], &policy["contact"]),
        (&json!("20:30"), &json!("(312) 555-0199")),
        "{policy}"
    );

    b.goto(&format!("{}/console/admin/users", base))
        .await
        .unwrap();
    browser.fill("name", "Sam Ortiz").await.unwrap();
    browser.fill("email", "sam@prairie.example").await.unwrap();
    browser.press("Invite").await.unwrap();
    let link = browser.value("shown-once").await.unwrap();
    assert!(link.contains("/console/invitations/"), "{link}");
    look(&browser, "users").await;
    visit(&browser, base, "/console/holds", "No holds stand.", "holds").await;

    // Twilio's settings: saved, the token never shown back, and the webhook URL to paste.
    b.goto(&format!("{base}/console/admin/twilio"))
        .await
        .unwrap();
    browser
        .fill(
            "account_sid",
            &format!("AC{}", "0123456789abcdef".repeat(2)),
        )
        .await
        .unwrap();
    browser.fill("auth_token", &"f".repeat(32)).await.unwrap();
    browser.fill("from", "+13125550100").await.unwrap();
    browser.press("Save the Twilio settings").await.unwrap();
    let url = browser.value("inbound-url").await.unwrap();
    assert!(
        url.ends_with(&format!("/webhooks/twilio/{tenant}/inbound")),
        "{url}"
    );
    assert!(!browser
        .text("main")
        .await
        .unwrap()
        .contains(&"f".repeat(32)));
    look(&browser, "twilio").await;

    // A key for the CMS: issued here and shown once, it works; revoked here, it does not.
    b.goto(&format!("{base}/console/admin/keys")).await.unwrap();
    browser.fill("name", "LegalServer").await.unwrap();
    browser.press("Issue the key").await.unwrap();
    let key = browser.value("shown-once").await.unwrap();
    assert!(key.starts_with("cw_"), "{key}");
    let (s, _) = api.get(&format!("/v1/tenants/{tenant}"), &key).await;
    assert_eq!(s, 200);
    look(&browser, "keys").await;
    b.goto(&format!("{base}/console/admin/keys")).await.unwrap();
    assert!(
        !browser.text("main").await.unwrap().contains(&key),
        "shown once"
    );
    let revoke = b
        .find(fantoccini::Locator::XPath(
            "//tr[td[normalize-space()='LegalServer']]//button[normalize-space()='Revoke']",
        ))
        .await
        .unwrap();
    let old = b.find(fantoccini::Locator::Css("html")).await.unwrap();
    revoke.click().await.unwrap();
    wait_for("the keys page again", Duration::from_secs(30), || async {
        old.tag_name().await.is_err().then_some(())
    })
    .await;
    let (s, _) = api.get(&format!("/v1/tenants/{tenant}"), &key).await;
    assert_eq!(s, 401, "a revoked key is refused");
    let (_, users) = api.get("/v1/users", &admin).await;
    assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
    b.clone().close().await.unwrap();
}

/// An admin drafts a survey in the console (the audience and its cost previewed), saves
/// it, launches it, follows it until every text is handled, and reads the answers as
/// bars once two clients reply.
pub async fn an_admin_runs_a_survey_and_reads_its_results(api: &Api) {
    let base = &api.base;
    let (tenant, admin) = api.sandbox_tenant("Prairie Legal Aid").await;
    let (s, p) = api
        .put(
            &format!("/v1/tenants/{tenant}/policy"),
            &admin,
            json!({"quiet_hours": null, "bulk_rate": null}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let phones = crate::bulk::clients(api, &admin, 7000, 3).await;
    let password = "harbor violet compass nine";
    crate::console::person(
        api,
        &admin,
        "Mia Chen",
        "mia@prairie.example",
        "admin",
        password,
    )
    .await;
    let browser = Browser::start(1280).await.unwrap();
    let b = &browser.client;
    sign_in(&browser, base, "mia@prairie.example", password).await;

    b.goto(&format!("{base}/console/campaigns/new"))
        .await
        .unwrap();
    look(&browser, "campaign-new").await;
    browser.fill("name", "Outcome survey").await.unwrap();
    browser.choose("kind", "survey").await.unwrap();
    browser.fill("problem_codes", "01").await.unwrap();
    browser
        .fill(
            "message_en",
            "Hi {client.first_name}, one question about your case.",
        )
        .await
        .unwrap();
    browser
        .fill(
            "message_es",
            "Hola {client.first_name}, una pregunta sobre su caso.",
        )
        .await
        .unwrap();
    browser
        .fill("q1_text_en", "Did we help you? Reply YES or NO.")
        .await
        .unwrap();
    browser
        .fill("q1_text_es", "¿Le ayudamos? Responda SÍ o NO.")
        .await
        .unwrap();
    browser.choose("q1_answer", "yes_no").await.unwrap();
    browser.press("Preview the audience").await.unwrap();
    let reach = browser.text("#reach").await.unwrap();
    assert!(reach.starts_with("3 clients would get it"), "{reach}");
    look(&browser, "campaign-preview").await;

    browser.press("Save the draft").await.unwrap();
    let draft = browser.text("main").await.unwrap();
    assert!(draft.contains("3 recipients, about $"), "{draft}");
    look(&browser, "campaign-draft").await;
    let campaign = b.current_url().await.unwrap().to_string();
    browser
        .press("Launch: freeze the audience and start sending")
        .await
        .unwrap();
    assert_eq!(b.current_url().await.unwrap().as_str(), campaign);
    wait_for("every text handled", Duration::from_secs(60), || async {
        b.goto(&campaign).await.unwrap();
        browser
            .text("#progress [role=status]")
            .await
            .unwrap()
            .starts_with("3 of 3 handled")
            .then_some(())
    })
    .await;
    look(&browser, "campaign-progress").await;

    for (phone, reply) in [(&phones[0], "Sí, gracias"), (&phones[1], "no")] {
        let (s, r) = api
            .post(
                "/v1/sandbox/inbound",
                &admin,
                json!({"from": phone, "body": reply}),
            )
            .await;
        assert!(s < 300, "{s} {r}");
    }
    wait_for(
        "both answers in the chart",
        Duration::from_secs(60),
        || async {
            b.goto(&campaign).await.unwrap();
            let chart = b
                .find(fantoccini::Locator::Css("section.question svg"))
                .await
                .ok()?
                .attr("aria-label")
                .await
                .unwrap()
                .unwrap_or_default();
            (chart.contains("no: 1") && chart.contains("yes: 1")).then_some(())
        },
    )
    .await;
    let results = browser.text("main").await.unwrap();
    assert!(results.contains("2 of 3 answered (67%)"), "{results}");
    look(&browser, "campaign-results").await;
    visit(
        &browser,
        base,
        "/console/campaigns",
        "Outcome survey",
        "campaigns",
    )
    .await;

    // Reminder wording tried on a case before it is saved: refused without a way to stop,
    // shown as the client would read it, then saved.
    b.goto(&format!("{base}/console/admin/reminders"))
        .await
        .unwrap();
    browser
        .fill(
            "court_date_en",
            "{organization}: {client_first_name}, court on {date}.",
        )
        .await
        .unwrap();
    browser.choose("language", "en").await.unwrap();
    browser.fill("case_id", "K-1").await.unwrap();
    browser.press("Preview the reminder").await.unwrap();
    let problem = browser.text("[role=alert]").await.unwrap();
    assert!(problem.contains("must say how to stop"), "{problem}");
    let wording =
        "{organization}: {client_first_name}, court on {date} at {time}. Reply STOP to stop.";
    browser.fill("court_date_en", wording).await.unwrap();
    browser.press("Preview the reminder").await.unwrap();
    let said = browser.text("[role=status] blockquote").await.unwrap();
    assert!(
        said.starts_with("Prairie Legal Aid: Cliente1, court on "),
        "{said}"
    );
    assert!(said.ends_with("at 9:00 AM. Reply STOP to stop."), "{said}");
    look(&browser, "reminders").await;
    browser.press("Save the reminder policy").await.unwrap();
    let (_, policy) = api
        .get(&format!("/v1/tenants/{tenant}/reminder-policy"), &admin)
        .await;
    assert_eq!(policy["court_date"]["templates"]["en"], wording, "{policy}");

    // What the survey cost: the month's bulk texts, and the clients' replies received.
    b.goto(&format!("{base}/console/admin/usage"))
        .await
        .unwrap();
    let usage = browser.text("main table").await.unwrap();
    assert!(usage.contains("bulk 3 5 $"), "{usage}");
    assert!(usage.contains("inbound 2 2 $0.0000"), "{usage}");
    look(&browser, "usage").await;

    // The CMS's endpoint: added here (its secret shown once), sent a test event, and the
    // delivery in its log.
    let cms = casewire_testkit::FakeCms::start().await;
    b.goto(&format!("{base}/console/admin/webhooks"))
        .await
        .unwrap();
    browser
        .fill("url", &format!("{}/casewire", cms.url()))
        .await
        .unwrap();
    browser.choose("events", "survey.answered").await.unwrap();
    browser.press("Add the endpoint").await.unwrap();
    let secret = browser.value("shown-once").await.unwrap();
    let secret = casewire_webhooks::Secret::parse(&secret).unwrap();
    look(&browser, "webhooks").await;
    b.find(fantoccini::Locator::LinkText(&format!(
        "{}/casewire",
        cms.url()
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser.press("Send a test event").await.unwrap();
    wait_for(
        "the test event delivered",
        Duration::from_secs(30),
        || async {
            b.refresh().await.unwrap();
            let log = browser.text("main table").await.unwrap();
            // The fake CMS answers 204, as many do.
            log.contains("webhook.test delivered 1 HTTP 204")
                .then_some(())
        },
    )
    .await;
    assert!(cms
        .verified(&secret)
        .iter()
        .any(|w| w["type"] == "webhook.test"));
    look(&browser, "webhook-deliveries").await;
    b.clone().close().await.unwrap();

    // The charts and tables on a phone's width.
    let phone = Browser::start(390).await.unwrap();
    sign_in(&phone, base, "mia@prairie.example", password).await;
    phone.client.goto(&campaign).await.unwrap();
    look(&phone, "campaign-results-phone").await;
    visit(&phone, base, "/console/admin/usage", "bulk", "usage-phone").await;
    phone.client.clone().close().await.unwrap();
}

/// The operator signs in with the token, adds an organization, and invites its first
/// admin, whose link is shown once to hand over.
pub async fn the_operator_adds_an_organization_and_invites_its_admin(api: &Api) {
    let base = &api.base;
    let browser = Browser::start(1280).await.unwrap();
    let b = &browser.client;
    b.goto(&format!("{base}/console/operator")).await.unwrap();
    look(&browser, "operator-sign-in").await;
    browser.fill("token", crate::OPERATOR_TOKEN).await.unwrap();
    browser.press("Sign in").await.unwrap();
    browser.fill("name", "Lakeshore Legal Aid").await.unwrap();
    browser.fill("timezone", "America/Chicago").await.unwrap();
    browser.press("Add the organization").await.unwrap();
    browser.fill("name", "Rosa Vega").await.unwrap();
    browser
        .fill("email", "rosa@lakeshore.example")
        .await
        .unwrap();
    browser.press("Invite the admin").await.unwrap();
    let link = browser.value("shown-once").await.unwrap();
    assert!(link.contains("/console/invitations/"), "{link}");
    look(&browser, "operator-organization").await;
    visit(
        &browser,
        base,
        "/console/operator",
        "Lakeshore Legal Aid",
        "operator",
    )
    .await;
    b.clone().close().await.unwrap();
}
