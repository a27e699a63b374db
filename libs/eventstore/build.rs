// sqlx::migrate! embeds the migration folders at compile time; a new file in them must
// rebuild this crate, which cargo does not know without being told.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
