//! Rebuild when an embedded check spec or profile changes (include_dir does not tell
//! cargo about the files it embeds).
fn main() {
    println!("cargo:rerun-if-changed=checks");
    println!("cargo:rerun-if-changed=profiles");
}
