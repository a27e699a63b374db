use std::process::ExitCode;

use anyhow::Context;
use casewire::{Config, Mode, Service};
use casewire_eventstore::Verification;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// casewire: texting for legal aid, threaded on the case.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything in one process on SQLite under ./data (CASEWIRE_DATA_DIR): no servers needed.
    Dev,
    /// Production services on PostgreSQL (DATABASE_URL) and NATS JetStream (NATS_URL).
    Serve {
        #[arg(value_enum)]
        service: Service,
    },
    /// Applies the database migrations to PostgreSQL (DATABASE_URL); needs no master key.
    Migrate,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks a tenant's hash chain (docs/audit-chain.md): exit 0 when it holds, 1 when
    /// broken (naming the first bad event and the fault), 2 when there is no such tenant.
    /// With --file, verifies an export instead, with no database.
    Verify {
        #[arg(long, required_unless_present = "file")]
        tenant: Option<String>,
        /// An export (`casewire audit export`, `GET /v1/audit/export`) to verify offline.
        #[arg(long, conflicts_with_all = ["tenant", "anchors", "checkpoints"])]
        file: Option<std::path::PathBuf>,
        /// A head recorded earlier, `<seq>:<hash>`: the trail must pass through it. Repeatable.
        #[arg(long = "anchor", value_name = "SEQ:HASH")]
        anchors: Vec<casewire_eventstore::Anchor>,
        /// A file holding a signed checkpoint kept outside casewire: the trail must pass
        /// through the head it signed. Repeatable.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<std::path::PathBuf>,
        /// A verifier key (`<name>+<id>+<key>`) to check checkpoints with, as recorded
        /// outside casewire; the keys in casewire's database when none is given. Repeatable.
        #[arg(long = "key", value_name = "VERIFIER_KEY")]
        keys: Vec<String>,
    },
    /// Exports a tenant's trail as JSON Lines, as `GET /v1/audit/export` does, with a
    /// progress bar; the export is recorded in the trail as the operator's.
    Export {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// Only this case's events.
        #[arg(long)]
        case_id: Option<String>,
        /// Recorded at or after this instant (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Recorded before this instant (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// Also an `opened` copy of each payload (needs the master key).
        #[arg(long)]
        opened: bool,
    },
    /// Retires the key that signs checkpoints and makes a new one
    /// (CASEWIRE_AUDIT_KEY_NAME); old checkpoints stay verifiable with the retired key.
    RotateKey,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(main_async(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("casewire: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn main_async(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let service_name = match &cli.command {
        // As the command line names it: `casewire-case-link`.
        Command::Serve { service } => {
            let name =
                clap::ValueEnum::to_possible_value(service).map(|v| v.get_name().to_string());
            format!("casewire-{}", name.unwrap_or_default())
        }
        _ => "casewire".to_string(),
    };
    let _telemetry = casewire_telemetry::init(
        &service_name,
        config.log_json,
        config.otlp_endpoint.as_deref(),
    );
    match cli.command {
        Command::Dev => serve(config, Mode::Dev).await,
        Command::Serve { service } => serve(config, Mode::Serve(service)).await,
        Command::Migrate => {
            // Production's step before a release: PostgreSQL only (`casewire dev` migrates
            // its own SQLite file at start), and no master key (nothing is sealed here).
            let url = config.database_url.as_ref().context(
                "DATABASE_URL is not set: casewire migrate applies the migrations to PostgreSQL \
                 (postgres://…); casewire dev migrates its own database when it starts",
            )?;
            casewire_eventstore::Db::connect(url.expose())
                .await
                .context("connecting to DATABASE_URL")?
                .migrate()
                .await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::RotateKey,
        } => {
            let store = casewire::open_store(&config, &cli_mode(&config)).await?;
            let key = casewire_audit::checkpoint::rotate(&store, &config.audit_key_name).await?;
            println!("checkpoints are now signed by {key}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    file: Some(file),
                    keys,
                    ..
                },
        } => verify_export(&file, &keys),
        Command::Audit {
            command:
                AuditCommand::Export {
                    tenant,
                    out,
                    case_id,
                    from,
                    to,
                    opened,
                },
        } => {
            let filter = casewire_events::review::TrailFilter {
                case_id,
                from,
                to,
                ..Default::default()
            };
            export(&config, &tenant, filter, !opened, &out).await
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    tenant,
                    mut anchors,
                    checkpoints,
                    keys,
                    ..
                },
        } => {
            let tenant = tenant.context("--tenant names the trail to verify")?;
            let store = audit_store(&config).await?;
            if !checkpoints.is_empty() {
                let keys = match keys.is_empty() {
                    true => casewire_audit::checkpoint::verifier_keys(&store).await?,
                    false => keys,
                };
                for file in &checkpoints {
                    let note = std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let signed = casewire_audit::checkpoint::open(&note, &keys)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    anyhow::ensure!(
                        signed.tenant == tenant,
                        "{}: a checkpoint of tenant {}, not {tenant}",
                        file.display(),
                        signed.tenant
                    );
                    anchors.push(
                        format!("{}:{}", signed.seq, signed.hash)
                            .parse()
                            .map_err(|e: String| anyhow::anyhow!("{}: {e}", file.display()))?,
                    );
                }
            }
            match store.verify(&tenant, &anchors).await? {
                Verification::Intact {
                    events,
                    head_seq,
                    head_hash,
                } => {
                    let through = match anchors.len() {
                        0 => String::new(),
                        n => format!(", through {n} anchor(s)"),
                    };
                    println!("OK: tenant {tenant}: {events} events, head {head_seq} {head_hash}{through}");
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken { seq, fault, reason } => {
                    println!("BROKEN: tenant {tenant}: event {seq} {fault}: {reason}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

/// `casewire audit export`: the rows a page at a time into `out`, a bar on stderr.
async fn export(
    config: &Config,
    tenant: &str,
    filter: casewire_events::review::TrailFilter,
    redacted: bool,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let store = casewire::open_store(config, &cli_mode(config)).await?;
    if store.head(tenant).await?.is_none() {
        eprintln!("casewire: no such tenant {tenant:?} (its trail has no event)");
        return Ok(ExitCode::from(2));
    }
    let keys = casewire_audit::checkpoint::keys(&store, &config.audit_key_name).await?;
    let operator = casewire_events::Metadata::new(casewire_events::Actor::Operator);
    let mut export = casewire_audit::export::Export::begin(
        &store,
        tenant,
        filter.clone(),
        redacted,
        &keys,
        operator.clone(),
    )
    .await?;
    let exported = casewire_events::review::ReviewEvent::TrailExported { filter, redacted };
    casewire_audit::review::record(&store, tenant, exported, operator)
        .await
        .map_err(|e| anyhow::anyhow!("recording the export: {e}"))?;
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?,
    );
    let bar = indicatif::ProgressBar::new(export.through().max(0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events {per_sec} {eta}")
            .expect("a valid template"),
    );
    while let Some(lines) = export.next_lines().await? {
        file.write_all(lines.as_bytes())?;
        bar.set_position(export.manifest().last_seq.unwrap_or(0).max(0) as u64);
    }
    file.flush()?;
    bar.finish_and_clear();
    let m = export.manifest();
    println!(
        "exported {} events of tenant {tenant} to {} (seq {:?} to {:?}){}",
        m.events,
        out.display(),
        m.first_seq,
        m.last_seq,
        match &m.checkpoint {
            Some(_) => ", with the checkpoint that covers them",
            None => "",
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `casewire audit verify --file`: no database, only the file and the keys given (or the
/// one the export names, said so).
fn verify_export(file: &std::path::Path, keys: &[String]) -> anyhow::Result<ExitCode> {
    let open = || -> anyhow::Result<_> {
        Ok(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?,
        ))
    };
    // The key to check the checkpoint with: yours, or else the one the export names.
    let named;
    let mine = !keys.is_empty();
    let keys = match keys.is_empty() {
        false => keys,
        true => {
            named = casewire_audit::export::manifest(open()?)
                .and_then(|m| m.key)
                .into_iter()
                .collect::<Vec<_>>();
            named.as_slice()
        }
    };
    match casewire_audit::export::verify(open()?, keys) {
        Ok(v) => {
            let m = &v.manifest;
            let signed = match (&v.checkpoint, mine) {
                (Some(c), true) => format!(", signed through event {} by your key", c.seq),
                (Some(c), false) => format!(
                    ", signed through event {} by the key the export names (pass --key with one you keep to know it is casewire's)",
                    c.seq
                ),
                (None, _) => ", no checkpoint covers it".to_string(),
            };
            println!(
                "OK: export of tenant {}: {} events, seq {:?} to {:?}, {} run(s){signed}",
                m.tenant, m.events, m.first_seq, m.last_seq, v.runs
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(reason) => {
            println!("BROKEN: {}: {reason}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// The mode a command-line tool opens the store in: PostgreSQL when DATABASE_URL is set,
/// else the embedded data folder.
fn cli_mode(config: &Config) -> Mode {
    match config.database_url {
        Some(_) => Mode::Serve(Service::Gateway),
        None => Mode::Dev,
    }
}

/// Verification reads the log only: it needs neither NATS nor the master key, since the
/// chain covers the sealed bytes.
async fn audit_store(config: &Config) -> anyhow::Result<casewire_eventstore::EventStore> {
    let db = match &config.database_url {
        Some(url) => casewire_eventstore::Db::connect(url.expose()).await?,
        None => casewire_eventstore::Db::sqlite_file(&config.data_dir.join("casewire.db")).await?,
    };
    Ok(casewire_eventstore::EventStore::new(
        db,
        casewire_crypto::Key::generate(),
    ))
}

async fn serve(config: Config, mode: Mode) -> anyhow::Result<ExitCode> {
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        on_signal.cancel();
    });
    casewire::run(config, mode, None, stop)
        .await
        .context("casewire stopped")?;
    Ok(ExitCode::SUCCESS)
}
