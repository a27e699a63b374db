//! The console in a real browser (issue 16): headless Chromium over WebDriver against
//! `casewire dev`, each page saved as a screenshot (target/console-screenshots) and
//! audited for accessibility (axe-core, WCAG 2.1 A and AA: no serious or critical
//! violation).

use casewire_e2e::{Api, Casewire};
use casewire_testkit::Browser;
use serde_json::json;

/// Screenshots the page and fails on any serious accessibility violation.
async fn look(browser: &Browser, name: &str) {
    browser.screenshot(name).await.unwrap();
    let violations = browser.accessibility().await.unwrap();
    let serious: Vec<_> = violations
        .iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect();
    assert!(serious.is_empty(), "{name}: {serious:#?}");
}

#[tokio::test]
async fn a_compliance_officer_signs_in_and_reads_the_verified_trail() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
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
    let link = format!("{}{}", cw.url, &link[link.find("/console/").unwrap()..]);

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
            b.goto(&format!("{}/console/sign-in", cw.url))
                .await
                .unwrap();
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

        b.goto(&format!("{}/console/trail", cw.url)).await.unwrap();
        let badge = browser.text(".badge").await.unwrap();
        assert!(badge.starts_with("Intact:"), "{badge}");
        look(&browser, &format!("trail{suffix}")).await;
        b.clone().close().await.unwrap();
    }
}
