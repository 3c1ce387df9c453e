//! Writes seed corpora recorded from real handshakes of each backend of this
//! build: `polytls-fuzz-seeds <dir>` creates `<dir>/<target>/<name>` files.

use std::path::Path;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: polytls-fuzz-seeds <corpus-dir>");
        std::process::exit(2);
    };
    match polytls_fuzz_targets::seeds::write(Path::new(&dir)) {
        Ok(n) => println!("wrote {n} seeds under {dir}"),
        Err(e) => {
            eprintln!("polytls-fuzz-seeds: {e}");
            std::process::exit(1);
        }
    }
}
