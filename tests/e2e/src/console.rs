//! The console's people (issue 16): invited by an admin over the API, each with a link to
//! hand over; one email, one organization; another tenant's user is a 404.

use serde_json::{json, Value};

use crate::{assert_error, assert_error_says, Api, OPERATOR_TOKEN};

pub async fn users_are_invited_listed_and_removed(api: &Api) {
    let (a, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (_, other_admin) = api.tenant_with_key("Lakeside Legal", "admin").await;
    let advocate = api.key(&a, "advocate").await;
    let officer = api.key(&a, "compliance").await;
    let ana =
        json!({"name": "Ana Ruiz", "email": " Ana.Ruiz@Prairie.example ", "role": "compliance"});

    // Bad input names its field and records nothing.
    for (body, says) in [
        (
            json!({"name": "Ana", "email": "ana at prairie", "role": "compliance"}),
            "email:",
        ),
        (
            json!({"name": "Ana", "email": "a@prairie.example", "role": "integration"}),
            "role:",
        ),
        (
            json!({"name": " ", "email": "a@prairie.example", "role": "admin"}),
            "name:",
        ),
        (
            json!({"name": "Ana", "email": "a@prairie.example", "role": "admin", "advocate_id": "a.lee"}),
            "advocate_id:",
        ),
    ] {
        let (s, e) = api.post("/v1/users", &admin, body).await;
        assert_error_says(s, &e, 422, "validation_failed", says);
    }
    let (s, e) = api.post("/v1/users", &advocate, ana.clone()).await;
    assert_error(s, &e, 403, "forbidden");
    let (s, none) = api.get("/v1/users", &admin).await;
    assert_eq!(
        (s, none),
        (200, json!([])),
        "a refused invitation records nothing"
    );

    let (s, invited) = api.post("/v1/users", &admin, ana.clone()).await;
    assert_eq!(s, 201, "{invited}");
    assert_eq!(
        (&invited["email"], &invited["role"], &invited["state"]),
        (
            &json!("ana.ruiz@prairie.example"),
            &json!("compliance"),
            &json!("invited")
        )
    );
    let link = invited["invitation_url"].as_str().unwrap();
    assert!(link.contains("/console/invitations/"), "{link}");
    assert!(invited.get("password_hash").is_none(), "{invited}");
    // The same person twice, in this organization or another: a 409.
    let (s, e) = api.post("/v1/users", &admin, ana.clone()).await;
    assert_error(s, &e, 409, "conflict");
    let (s, e) = api.post("/v1/users", &other_admin, ana.clone()).await;
    assert_error_says(s, &e, 409, "conflict", "another organization");

    let (s, lee) = api
        .post(
            "/v1/users",
            &admin,
            json!({"name": "Lee Park", "email": "lee@prairie.example", "role": "advocate", "advocate_id": "a.lee"}),
        )
        .await;
    assert_eq!((s, &lee["advocate_id"]), (201, &json!("a.lee")), "{lee}");
    let (s, users) = api.get("/v1/users", &officer).await;
    assert_eq!(s, 200);
    let names: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["name"])
        .collect();
    assert_eq!(names, [&json!("Ana Ruiz"), &json!("Lee Park")]);
    let (_, theirs) = api.get("/v1/users", &other_admin).await;
    assert_eq!(theirs, json!([]), "another tenant sees none of them");

    // Another tenant's user is a 404; removed, a user is gone from the list.
    let path = format!("/v1/users/{}", lee["id"].as_str().unwrap());
    let (s, e) = api.call("DELETE", &path, Some(&other_admin), None).await;
    assert_error(s, &e, 404, "not_found");
    let (s, _) = api.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(s, 204);
    let (s, e) = api.call("DELETE", &path, Some(&admin), None).await;
    assert_error(s, &e, 404, "not_found");
    let (_, users) = api.get("/v1/users", &admin).await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    // Each invitation is in the trail.
    let (s, invites) = api.get("/v1/audit/events?type=UserInvited", &officer).await;
    assert_eq!(s, 200, "{invites}");
    assert_eq!(invites["items"].as_array().unwrap().len(), 2, "{invites}");
}

/// A browser's part, over plain HTTP: cookies kept by name, redirects not followed, each
/// page's CSRF token read from its form.
pub struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
}

/// What a page answered: status, the `Location` it sends to, its HTML.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The value of the page's first form's CSRF token.
    pub fn csrf(&self) -> String {
        let at = self
            .html
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        self.html[at..].split('"').next().unwrap().to_string()
    }
}

impl Visitor {
    pub fn new(base: &str) -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: Default::default(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            // A cookie is only kept as a browser keeps the console's: HttpOnly, Secure, strict;
            // the single sign-on journey's alone is Lax (the provider's redirect back is a
            // navigation from another site), and only for its own path.
            let (same_site, path) = if set.starts_with("casewire_sso=") {
                ("SameSite=Lax", "Path=/console/sso")
            } else {
                ("SameSite=Strict", "Path=/")
            };
            for attribute in ["HttpOnly", "Secure", same_site, path] {
                assert!(set.contains(attribute), "{set} lacks {attribute}");
            }
            let (name, rest) = set.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Answer {
            status: response.status().as_u16(),
            location: (response.headers().get("location")).map(|l| l.to_str().unwrap().to_string()),
            headers: response.headers().clone(),
            html: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let url = format!("{}{path}", self.base);
        self.send(self.http.get(url)).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.base);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Signs in, answering the sign-in page's answer.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let csrf = self.get("/console/sign-in").await.csrf();
        self.post(
            "/console/sign-in",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("then", "/console"),
            ],
        )
        .await
    }
}

/// An invited person chooses a password through their link, signs in (after a wrong
/// password), reads the verified trail, is locked out by five failures, and signs out;
/// forms without their CSRF token are refused; every step is in the trail.
pub async fn people_sign_in_to_the_console(api: &Api) {
    let (a, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let officer = api.key(&a, "compliance").await;
    let invite = |name: &str, email: &str, role: &str| {
        let body = json!({"name": name, "email": email, "role": role});
        let admin = admin.clone();
        async move {
            let (s, invited) = api.post("/v1/users", &admin, body).await;
            assert_eq!(s, 201, "{invited}");
            let url = invited["invitation_url"].as_str().unwrap().to_string();
            url[url.find("/console/").unwrap()..].to_string()
        }
    };
    let link = invite("Ana Ruiz", "ana@prairie.example", "compliance").await;
    let mut ana = Visitor::new(&api.base);
    let page = ana.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Welcome, Ana Ruiz"), "{}", page.html);
    let csrf = page.csrf();
    let good = "maple river lantern seven";
    // Without the page's token: refused, nothing set.
    let refused = ana
        .post(
            &link,
            &[("csrf", "forged"), ("password", good), ("again", good)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.html.contains("This form has expired"),
        "{}",
        refused.html
    );
    for (password, again, says) in [
        ("password1234", "password1234", "too common"),
        ("short", "short", "at least 12"),
        (good, "maple river lantern eight", "differ"),
    ] {
        let page = ana
            .post(
                &link,
                &[("csrf", &csrf), ("password", password), ("again", again)],
            )
            .await;
        assert_eq!(page.status, 422, "{password}");
        assert!(page.html.contains(says), "{says}: {}", page.html);
    }
    let chosen = ana
        .post(
            &link,
            &[("csrf", &csrf), ("password", good), ("again", good)],
        )
        .await;
    assert_eq!(chosen.status, 303, "{}", chosen.html);
    let used = ana.get(&link).await;
    assert_eq!(used.status, 404, "an invitation sets one password");

    // A browser that asks for Spanish gets the page in Spanish.
    let spanish = reqwest::Client::new()
        .get(format!("{}/console/sign-in", api.base))
        .header("accept-language", "es-MX,es;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        spanish.contains("<html lang=\"es\">") && spanish.contains("Iniciar sesión"),
        "{spanish}"
    );

    // Not signed in: to the sign-in page, and back after.
    let away = ana.get("/console/trail").await;
    assert_eq!(
        away.location.as_deref(),
        Some("/console/sign-in?then=%2Fconsole%2Ftrail")
    );
    let wrong = ana
        .sign_in("ana@prairie.example", "maple river lantern six")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("The email or the password is wrong."));
    let nobody = ana.sign_in("nobody@prairie.example", good).await;
    assert_eq!(nobody.status, 401, "an unknown email says the same");
    assert!(nobody.html.contains("The email or the password is wrong."));
    let signed_in = ana.sign_in(" ANA@prairie.example", good).await;
    assert_eq!(
        (signed_in.status, signed_in.location.as_deref()),
        (303, Some("/console"))
    );
    let home = ana.get("/console").await;
    assert_eq!(home.status, 200, "{}", home.html);
    assert!(home.html.contains("Ana Ruiz"), "{}", home.html);
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(home.headers["x-frame-options"], "DENY");
    let trail = ana.get("/console/trail").await;
    assert_eq!(trail.status, 200, "{}", trail.html);
    assert!(trail.html.contains("Intact:"), "{}", trail.html);
    assert!(trail.html.contains("SignedIn"), "{}", trail.html);

    // One event in full, and the trail as a file a verifier reads offline.
    let first = ana.get("/console/trail/1").await;
    assert_eq!(first.status, 200, "{}", first.html);
    assert!(first.html.contains("TenantCreated"), "{}", first.html);
    assert_eq!(ana.get("/console/trail/999999").await.status, 404);
    let export = ana.get("/console/trail/export").await;
    assert_eq!(export.status, 200, "{}", export.html);
    let disposition = export.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let manifest: Value = serde_json::from_str(export.html.lines().last().unwrap()).unwrap();
    assert!(manifest.get("manifest").is_some(), "{manifest}");
    let checkpoints = ana.get("/console/checkpoints").await;
    let signed = ana
        .post("/console/checkpoints", &[("csrf", &checkpoints.csrf())])
        .await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    let checkpoints = ana.get("/console/checkpoints").await;
    assert!(
        checkpoints.html.contains("casewire.audit/"),
        "{}",
        checkpoints.html
    );

    // An advocate's console has no trail: the API's own 403, as a page.
    let lee_link = invite("Lee Park", "lee@prairie.example", "advocate").await;
    let mut lee = Visitor::new(&api.base);
    let csrf = lee.get(&lee_link).await.csrf();
    let lee_password = "copper meadow violin ninety";
    let set = lee
        .post(
            &lee_link,
            &[
                ("csrf", &csrf),
                ("password", lee_password),
                ("again", lee_password),
            ],
        )
        .await;
    assert_eq!(set.status, 303);
    assert_eq!(
        lee.sign_in("lee@prairie.example", lee_password)
            .await
            .status,
        303
    );
    let refused = lee.get("/console/trail").await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert!(refused.html.contains("may not do this"), "{}", refused.html);

    // Five wrong passwords lock Lee out, and the page says until when; even the right
    // password waits.
    let mut guesser = Visitor::new(&api.base);
    for n in 1..=5 {
        let page = guesser
            .sign_in("lee@prairie.example", "wrong guess number x")
            .await;
        let expected = if n < 5 { 401 } else { 429 };
        assert_eq!(page.status, expected, "attempt {n}: {}", page.html);
    }
    let locked = guesser.sign_in("lee@prairie.example", lee_password).await;
    assert_eq!(locked.status, 429);
    assert!(locked.html.contains("locked until"), "{}", locked.html);

    // Two-step sign-in: on with a code of the app's, then needed, and each code good once.
    let account = ana.get("/console/account").await;
    assert!(
        account
            .html
            .contains("Two-step sign-in is <strong>off</strong>"),
        "{}",
        account.html
    );
    let at = account.html.find("name=\"secret\" value=\"").unwrap() + 22;
    let secret = account.html[at..].split('"').next().unwrap().to_string();
    let csrf = account.csrf();
    let unix = || chrono::Utc::now().timestamp() as u64;
    let wrong = ana
        .post(
            "/console/account/two-step",
            &[("csrf", &csrf), ("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    let code = casewire_people::totp::code(&secret, unix()).unwrap();
    let on = ana
        .post(
            "/console/account/two-step",
            &[("csrf", &csrf), ("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.html);
    assert!(ana
        .get("/console/account")
        .await
        .html
        .contains("<strong>on</strong>"));
    let mut phone = Visitor::new(&api.base);
    let no_code = phone.sign_in("ana@prairie.example", good).await;
    assert_eq!(no_code.status, 401);
    assert!(
        no_code
            .html
            .contains("authenticator app is missing or wrong"),
        "{}",
        no_code.html
    );
    let csrf = phone.get("/console/sign-in").await.csrf();
    let code = casewire_people::totp::code(&secret, unix()).unwrap();
    let with_code = [
        ("csrf", csrf.as_str()),
        ("email", "ana@prairie.example"),
        ("password", good),
        ("code", &code),
        ("then", "/console"),
    ];
    assert_eq!(phone.post("/console/sign-in", &with_code).await.status, 303);
    let mut thief = Visitor::new(&api.base);
    let csrf = thief.get("/console/sign-in").await.csrf();
    let replayed = [
        ("csrf", csrf.as_str()),
        ("email", "ana@prairie.example"),
        ("password", good),
        ("code", &code),
        ("then", "/console"),
    ];
    let replay = thief.post("/console/sign-in", &replayed).await;
    assert_eq!(replay.status, 401, "a code is good once");
    assert!(replay.html.contains("used already"), "{}", replay.html);

    // Signing out needs the page's token, and ends the session.
    let refused = ana.post("/console/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(refused.status, 403);
    let csrf = ana.get("/console").await.csrf();
    let out = ana.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(ana.get("/console").await.status, 303, "signed out");

    // The trail has each step, by the person.
    for (event, at_least) in [
        ("PasswordChosen", 2),
        ("SignedIn", 2),
        ("SignInFailed", 6),
        ("LockedOut", 1),
        ("SignedOut", 1),
    ] {
        let (s, page) = api
            .get(
                &format!("/v1/audit/events?type={event}&limit=100"),
                &officer,
            )
            .await;
        assert_eq!(s, 200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() >= at_least, "{event}: {page}");
        assert!(
            items
                .iter()
                .all(|e| e["actor"].as_str().unwrap().starts_with("user:")),
            "{page}"
        );
    }
}

/// Invites a person as `admin` and sets their password through the invitation page, as
/// they would: ready to sign in.
pub async fn person(api: &Api, admin: &str, name: &str, email: &str, role: &str, password: &str) {
    let body = json!({"name": name, "email": email, "role": role});
    person_as(api, admin, body, password).await
}

/// Invites the person `body` describes (as `POST /v1/users` takes it) and sets their
/// password through the invitation page.
pub async fn person_as(api: &Api, admin: &str, body: Value, password: &str) {
    let (s, invited) = api.post("/v1/users", admin, body).await;
    assert_eq!(s, 201, "{invited}");
    let url = invited["invitation_url"].as_str().unwrap();
    let link = &url[url.find("/console/").unwrap()..];
    let mut visitor = Visitor::new(&api.base);
    let csrf = visitor.get(link).await.csrf();
    let set = visitor
        .post(
            link,
            &[("csrf", &csrf), ("password", password), ("again", password)],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.html);
}

/// Erases the client of case C-1 through the console's form.
async fn erase(v: &mut Visitor, csrf: &str, sure: &str) -> Answer {
    let form = [
        ("csrf", csrf),
        ("case_id", "C-1"),
        ("phone", ""),
        ("reason", "retention ended"),
        ("sure", sure),
    ];
    v.post("/console/erasures", &form).await
}

/// An admin places a legal hold from the console, sees an erasure refused while it
/// stands, lifts it, and erases the client (after saying they understand); a compliance
/// officer reads the holds but has no forms.
pub async fn holds_and_erasure_in_the_console(api: &Api) {
    let (tenant, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (s, _) = api
        .put(
            "/v1/cases/C-1",
            &admin,
            json!({"client": {"name": "Ana Díaz", "phone": "+13125550161"}}),
        )
        .await;
    assert_eq!(s, 201);
    let password = "granite orchard bicycle four";
    person(
        api,
        &admin,
        "Mia Chen",
        "mia@prairie.example",
        "admin",
        password,
    )
    .await;
    person(
        api,
        &admin,
        "Rosa Vega",
        "rosa@prairie.example",
        "compliance",
        password,
    )
    .await;
    let mut mia = Visitor::new(&api.base);
    assert_eq!(
        mia.sign_in("mia@prairie.example", password).await.status,
        303
    );
    let csrf = mia.get("/console/holds").await.csrf();
    let placed = mia
        .post(
            "/console/holds",
            &[
                ("csrf", &csrf),
                ("case_id", "C-1"),
                ("phone", ""),
                ("reason", "Matter 2026-114"),
            ],
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.html);
    assert!(placed.html.contains("The hold stands.") && placed.html.contains("Matter 2026-114"));
    let refused = erase(&mut mia, &csrf, "yes").await;
    assert_eq!(refused.status, 409, "{}", refused.html);
    assert!(refused.html.contains("hold"), "{}", refused.html);
    let (_, holds) = api.get("/v1/legal-holds", &admin).await;
    let id = holds[0]["id"].as_str().unwrap();
    let lifted = mia
        .post(&format!("/console/holds/{id}/lift"), &[("csrf", &csrf)])
        .await;
    assert_eq!(lifted.status, 303, "{}", lifted.html);
    let unsure = erase(&mut mia, &csrf, "").await;
    assert_eq!(unsure.status, 422, "{}", unsure.html);
    let erased = erase(&mut mia, &csrf, "yes").await;
    assert_eq!(erased.status, 200, "{}", erased.html);
    assert!(
        erased.html.contains("The client is erased."),
        "{}",
        erased.html
    );
    let (_, case) = api.get("/v1/cases/C-1", &admin).await;
    assert_eq!(case["client"]["name"], Value::Null, "{case}");
    // The officer reads the holds page, with no form to place or erase.
    let mut rosa = Visitor::new(&api.base);
    assert_eq!(
        rosa.sign_in("rosa@prairie.example", password).await.status,
        303
    );
    let page = rosa.get("/console/holds").await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("Erase the client"), "{}", page.html);
    let _ = tenant;
}

/// Campaigns in the console keep the API's rules: a step without its form's CSRF token is
/// refused and changes nothing, a step with it is the API's own; another tenant's admin
/// finds no such campaign, by page or by form; an advocate bound to their own cases has no
/// Campaigns link and is refused the page, as the API refuses their key.
pub async fn campaigns_in_the_console(api: &Api) {
    let (_, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (_, stranger) = api.tenant_with_key("Lakeside Legal", "admin").await;
    let plan = json!({
        "name": "Tenant rights clinic", "kind": "announcement", "filter": {"status": "open"},
        "messages": {"en": "{organization.name}: free tenant rights clinic Saturday 10am."},
    });
    let (s, draft) = api.post("/v1/campaigns", &admin, plan).await;
    assert_eq!(s, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_string();
    let state = || async {
        let (_, c) = api.get(&format!("/v1/campaigns/{id}"), &admin).await;
        c["state"].as_str().unwrap().to_string()
    };
    let password = "granite orchard bicycle four";
    person(
        api,
        &admin,
        "Nora Quinn",
        "nora@prairie.example",
        "admin",
        password,
    )
    .await;
    let lee = json!({"name": "Omar Haddad", "email": "omar@prairie.example", "role": "advocate", "advocate_id": "a.lee"});
    person_as(api, &admin, lee, password).await;
    person(
        api,
        &stranger,
        "Sol Reyes",
        "sol@lakeside.example",
        "admin",
        password,
    )
    .await;

    let mut nora = Visitor::new(&api.base);
    assert_eq!(
        nora.sign_in("nora@prairie.example", password).await.status,
        303
    );
    let list = nora.get("/console/campaigns").await;
    assert_eq!(list.status, 200, "{}", list.html);
    assert!(list.html.contains("Tenant rights clinic"), "{}", list.html);
    let page = nora.get(&format!("/console/campaigns/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let launch = format!("/console/campaigns/{id}/launch");
    let forged = nora.post(&launch, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert_eq!(state().await, "draft", "a refused form changes nothing");
    let cancel = format!("/console/campaigns/{id}/cancel");
    let cancelled = nora.post(&cancel, &[("csrf", &page.csrf())]).await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.html);
    assert_eq!(state().await, "cancelled");

    let mut sol = Visitor::new(&api.base);
    assert_eq!(
        sol.sign_in("sol@lakeside.example", password).await.status,
        303
    );
    let theirs = sol.get(&format!("/console/campaigns/{id}")).await;
    assert_eq!(theirs.status, 404, "{}", theirs.html);
    // The sign-out form on every page carries the person's token.
    let csrf = sol.get("/console").await.csrf();
    let step = sol
        .post(
            &format!("/console/campaigns/{id}/resume"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(step.status, 404, "{}", step.html);
    let csv = sol
        .get(&format!("/console/campaigns/{id}/results.csv"))
        .await;
    assert_eq!(csv.status, 404, "{}", csv.html);

    let mut bound = Visitor::new(&api.base);
    assert_eq!(
        bound.sign_in("omar@prairie.example", password).await.status,
        303
    );
    let home = bound.get("/console").await;
    assert!(!home.html.contains("/console/campaigns"), "{}", home.html);
    let refused = bound.get("/console/campaigns").await;
    assert_eq!(refused.status, 403, "{}", refused.html);

    // Every admin page answers its admin, in this mode as in the other; the advocate is
    // refused each one by the API's own rule.
    for page in [
        "/console/admin/policy",
        "/console/admin/reminders",
        "/console/admin/twilio",
        "/console/admin/keys",
        "/console/admin/webhooks",
        "/console/admin/usage",
        "/console/admin/users",
    ] {
        let answer = nora.get(page).await;
        assert_eq!(answer.status, 200, "{page}: {}", answer.html);
        let refused = bound.get(page).await;
        assert_eq!(refused.status, 403, "{page}: {}", refused.html);
    }
}

/// The operator signs in to the console with the token (a wrong one, or a form without its
/// CSRF token, refused), adds an organization (a bad time zone refused, nothing added),
/// and invites its first admin, who chooses a password and signs in to it. Without the
/// operator's cookie there is only the sign-in form; a key may not list the organizations,
/// nor name one to invite into; signed out, the cookie is gone.
pub async fn the_operator_adds_an_organization_and_its_admin(api: &Api) {
    let mut op = Visitor::new(&api.base);
    let form = op.get("/console/operator").await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(form.html.contains("Operator token"), "{}", form.html);
    let csrf = form.csrf();
    let refused = op
        .post(
            "/console/operator/sign-in",
            &[("csrf", &csrf), ("token", "not-the-token")],
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.html);
    let forged = op
        .post(
            "/console/operator/sign-in",
            &[("csrf", "forged"), ("token", OPERATOR_TOKEN)],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let signed = op
        .post(
            "/console/operator/sign-in",
            &[("csrf", &csrf), ("token", OPERATOR_TOKEN)],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert!(!signed.html.contains(OPERATOR_TOKEN));

    let page = op.get("/console/operator").await;
    assert!(page.html.contains("Add an organization"), "{}", page.html);
    let csrf = page.csrf();
    let add = |timezone| {
        [
            ("csrf", csrf.as_str()),
            ("name", "Lakeshore Legal Aid"),
            ("timezone", timezone),
        ]
    };
    let refused = op
        .post("/console/operator/tenants", &add("Mars/Olympus"))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("Mars/Olympus"),
        "the form keeps what was typed"
    );
    let named = |all: &Value| {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == "Lakeshore Legal Aid")
            .count()
    };
    let (_, all) = api.get("/v1/tenants", OPERATOR_TOKEN).await;
    assert_eq!(
        named(&all),
        0,
        "a refused organization is not half-made: {all}"
    );
    let made = op
        .post("/console/operator/tenants", &add("America/Chicago"))
        .await;
    assert_eq!(made.status, 303, "{}", made.html);
    let at = made.location.unwrap();
    let (_, all) = api.get("/v1/tenants", OPERATOR_TOKEN).await;
    assert_eq!(named(&all), 1, "{all}");

    let invited = op
        .post(
            &format!("{at}/admins"),
            &[
                ("csrf", &csrf),
                ("name", "Rosa Vega"),
                ("email", "rosa@lakeshore.example"),
            ],
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.html);
    let html = &invited.html;
    let shown = &html[html
        .find("id=\"shown-once\"")
        .expect("the link, shown once")..];
    let url = shown[shown.find("value=\"").unwrap() + 7..]
        .split('"')
        .next()
        .unwrap();
    let link = &url[url.find("/console/").unwrap()..];
    let password = "lantern meadow copper seven";
    let mut rosa = Visitor::new(&api.base);
    let csrf_rosa = rosa.get(link).await.csrf();
    let set = rosa
        .post(
            link,
            &[
                ("csrf", &csrf_rosa),
                ("password", password),
                ("again", password),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.html);
    assert_eq!(
        rosa.sign_in("rosa@lakeshore.example", password)
            .await
            .status,
        303
    );
    let home = rosa.get("/console/admin/users").await;
    assert!(home.html.contains("Rosa Vega"), "{}", home.html);

    // A person's session is no operator's; a key neither lists nor names organizations.
    let theirs = rosa.get(&at).await;
    assert!(theirs.html.contains("Operator token"), "{}", theirs.html);
    let (_, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (s, e) = api.get("/v1/tenants", &admin).await;
    assert_error(s, &e, 403, "forbidden");
    let tenant = at.rsplit('/').next().unwrap();
    let (s, e) = api
        .post(
            "/v1/users",
            &admin,
            json!({"name": "Eve", "email": "eve@example.org", "role": "admin", "tenant_id": tenant}),
        )
        .await;
    assert_error_says(
        s,
        &e,
        422,
        "validation_failed",
        "only the operator names a tenant",
    );

    let out = op
        .post("/console/operator/sign-out", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, 303, "{}", out.html);
    let after = op.get("/console/operator").await;
    assert!(after.html.contains("Operator token"), "{}", after.html);
}

/// A case's thread says when texts wait (the organization's quiet hours, in the client's
/// zone), and the CMS the organization lists may frame it, nobody else; every other page
/// refuses any frame. An origin that is not one is refused whole.
pub async fn the_tenants_cms_may_frame_a_thread(api: &Api) {
    let (tenant, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let case = json!({"client": {"name": "Ana Díaz", "phone": "+13125550162"}});
    let (s, _) = api.put("/v1/cases/C-1", &admin, case).await;
    assert_eq!(s, 201);
    let policy = format!("/v1/tenants/{tenant}/policy");
    let (s, e) = api
        .put(
            &policy,
            &admin,
            json!({"embed_origins": ["https://cms.prairie.example/thread"]}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "embed_origins[0]");
    let password = "granite orchard bicycle four";
    person(
        api,
        &admin,
        "Ines Ortiz",
        "ines@prairie.example",
        "admin",
        password,
    )
    .await;
    let mut ines = Visitor::new(&api.base);
    assert_eq!(
        ines.sign_in("ines@prairie.example", password).await.status,
        303
    );
    let framing = |a: &Answer| {
        let csp = a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let ancestors = csp.split("frame-ancestors ").nth(1).unwrap().to_string();
        let xfo = a
            .headers
            .get("x-frame-options")
            .map(|v| v.to_str().unwrap().to_string());
        (ancestors, xfo)
    };
    let thread = ines.get("/console/cases/C-1").await;
    assert_eq!(thread.status, 200, "{}", thread.html);
    assert_eq!(
        framing(&thread),
        ("'none'".to_string(), Some("DENY".to_string()))
    );
    assert!(
        thread
            .html
            .contains("Quiet hours: 21:00 to 08:00 (America/Chicago)"),
        "{}",
        thread.html
    );

    let cms = json!({"embed_origins": ["https://cms.prairie.example"], "quiet_hours": null});
    let (s, p) = api.put(&policy, &admin, cms).await;
    assert_eq!(s, 200, "{p}");
    let thread = ines.get("/console/cases/C-1").await;
    assert_eq!(
        framing(&thread),
        ("'self' https://cms.prairie.example".to_string(), None)
    );
    assert!(thread.html.contains("No quiet hours"), "{}", thread.html);
    let trail = ines.get("/console/trail").await;
    assert_eq!(
        framing(&trail),
        ("'none'".to_string(), Some("DENY".to_string()))
    );
}

/// Goes through the organization's provider as `email`: the start, the provider's answer,
/// and casewire's callback, whose answer this is.
async fn through_provider(v: &mut Visitor, email: &str, forge_state: bool) -> Answer {
    let start = format!("/console/sso?email={}", urlencode(email));
    let go = v.get(&start).await;
    assert_eq!(go.status, 303, "{}", go.html);
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = provider.get(go.location.unwrap()).send().await.unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let back = answer.headers()["location"].to_str().unwrap().to_string();
    let mut path = back[back.find("/console/").unwrap()..].to_string();
    if forge_state {
        path = format!("{}&state=forged", &path[..path.find("&state=").unwrap()]);
    }
    v.get(&path).await
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A person of an organization with single sign-on signs in through its provider (a small
/// OpenID Connect provider the test runs): the admin sets it (an address that is not one,
/// and an issuer that does not answer, refused; the secret never shown back), the person
/// names their email, goes to the provider, comes back signed in, and the trail says so.
/// Refused: a journey whose state is not its own, an email the provider has not verified,
/// someone else signed in at the provider, and an address with no single sign-on.
pub async fn people_sign_in_with_their_organizations_account(api: &Api) {
    use casewire_testkit::fake_oidc::{Account, FakeOidc};
    let (tenant, admin) = api.tenant_with_key("Harbor Legal Aid", "admin").await;
    let uma = "uma@harbor.example";
    let at_keyboard = |email: &str, email_verified| Account {
        email: email.to_string(),
        email_verified,
    };
    let oidc = FakeOidc::start("casewire-harbor", "harbor-secret-1", at_keyboard(uma, true)).await;
    let sso = format!("/v1/tenants/{tenant}/sso");
    let set = |issuer: String| json!({"issuer": issuer, "client_id": "casewire-harbor", "client_secret": "harbor-secret-1"});
    let (s, e) = api
        .put(&sso, &admin, set("ftp://login.harbor.example".into()))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "issuer");
    let (s, e) = api
        .put(&sso, &admin, set("http://127.0.0.1:9".into()))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "discovery document");
    let (s, e) = api.get(&sso, &admin).await;
    assert_error(s, &e, 404, "not_found");
    let (s, v) = api.put(&sso, &admin, set(oidc.issuer())).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["client_secret_set"], true, "{v}");
    assert!(!v.to_string().contains("harbor-secret-1"), "{v}");

    let password = "harbor lantern seven pebbles";
    person(api, &admin, "Uma Patel", uma, "advocate", password).await;
    let mut visitor = Visitor::new(&api.base);
    let done = through_provider(&mut visitor, uma, false).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Signed in."), "{}", done.html);
    let home = visitor.get("/console").await;
    assert!(home.html.contains("Uma Patel"), "{}", home.html);
    let (_, trail) = api
        .get("/v1/audit/events?type=SignedIn&limit=10", &admin)
        .await;
    assert_eq!(trail["items"].as_array().map(Vec::len), Some(1), "{trail}");

    let mut forger = Visitor::new(&api.base);
    let forged = through_provider(&mut forger, uma, true).await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert!(
        forger.get("/console").await.location.is_some(),
        "not signed in"
    );
    oidc.sign_in_as(at_keyboard(uma, false));
    let unverified = through_provider(&mut Visitor::new(&api.base), uma, false).await;
    assert_eq!(unverified.status, 403, "{}", unverified.html);
    assert!(
        unverified.html.contains("not verified this email"),
        "{}",
        unverified.html
    );
    oidc.sign_in_as(at_keyboard("vic@harbor.example", true));
    let other = through_provider(&mut Visitor::new(&api.base), uma, false).await;
    assert_eq!(other.status, 403, "{}", other.html);
    assert!(other.html.contains("someone else"), "{}", other.html);
    let nobody = visitor
        .get("/console/sso?email=nobody%40harbor.example")
        .await;
    assert_eq!(nobody.status, 422, "{}", nobody.html);
    assert!(nobody.html.contains("No single sign-on"), "{}", nobody.html);
}
