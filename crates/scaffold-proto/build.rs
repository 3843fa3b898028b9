//! Compiles `proto/` (pure Rust: protox, no protoc needed) into prost messages with their canonical
//! JSON mapping (pbjson), and keeps the descriptor set for the compatibility test.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("scaffold/changes/v1/changes.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&root])?;
    let bytes = prost::Message::encode_to_vec(&fds);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptor.bin"), &bytes)?;
    prost_build::Config::new()
        // pbjson-types writes timestamps as `+00:00`; the canonical mapping is Z-normalised.
        .extern_path(".google.protobuf.Timestamp", "crate::Timestamp")
        .compile_fds(fds)?;
    pbjson_build::Builder::new().register_descriptors(&bytes)?.build(&[".scaffold"])?;
    Ok(())
}
