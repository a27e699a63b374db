//! The console in a real browser against `casewire dev` (issue 16); the scenarios are
//! casewire_e2e::browser's, which the distributed tests run too.

use casewire_e2e::{browser, Api, Casewire};

#[tokio::test]
async fn a_compliance_officer_signs_in_and_reads_the_verified_trail() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::a_compliance_officer_signs_in_and_reads_the_verified_trail(&api).await;
}

#[tokio::test]
async fn an_advocate_texts_a_client_sees_it_delivered_and_files_an_unrouted_text() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::an_advocate_texts_a_client_sees_it_delivered_and_files_an_unrouted_text(&api).await;
}

#[tokio::test]
async fn an_officer_finds_a_text_flags_it_and_sees_a_tampered_trail_broken() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::an_officer_finds_a_text_flags_it_and_sees_a_tampered_trail_broken(
        &api,
        &format!("sqlite://{}/casewire.db", dir.path().display()),
    )
    .await;
}

#[tokio::test]
async fn an_admin_sets_quiet_hours_and_invites_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::an_admin_sets_quiet_hours_and_invites_a_user(&api).await;
}

#[tokio::test]
async fn an_admin_runs_a_survey_and_reads_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::an_admin_runs_a_survey_and_reads_its_results(&api).await;
}

#[tokio::test]
async fn the_operator_adds_an_organization_and_invites_its_admin() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    browser::the_operator_adds_an_organization_and_invites_its_admin(&api).await;
}
