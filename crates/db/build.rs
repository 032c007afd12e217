//! Rebuilds the crate when a migration is added or changed: the migrations
//! are embedded at compile time, and a new folder is not a source file
//! Cargo would otherwise notice.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
