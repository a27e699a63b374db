//! The embedded mode's own secrets, made on first start and kept in the data folder with
//! owner-only permissions, so a newcomer can start at once. Production passes them in the
//! environment instead.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use casewire_crypto::Key;

/// Reads `path`, or creates it with `make()` (mode 0600). Returns (contents, newly made).
fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> anyhow::Result<(String, bool)> {
    match fs::read_to_string(path) {
        Ok(s) => return Ok((s.trim().to_string(), false)),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("reading {}", path.display()))
        }
        Err(_) => {}
    }
    let value = make();
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "{value}")?;
    f.sync_all()?;
    Ok((value, true))
}

pub(crate) fn dev_master_key(data_dir: &Path) -> anyhow::Result<Key> {
    let (b64, _) = read_or_create(&data_dir.join("master.key"), || Key::generate().to_base64())?;
    Key::from_base64(&b64).context("data/master.key")
}

/// The operator token, printed once when it is made.
pub(crate) fn dev_operator_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("operator-token");
    let (token, new) = read_or_create(&path, || {
        format!("cwop_{}", casewire_crypto::random_token(32))
    })?;
    if new {
        println!(
            "casewire: made an operator token for this data folder (shown once; kept in {}):\n\n    {token}\n",
            path.display()
        );
    }
    Ok(token)
}
