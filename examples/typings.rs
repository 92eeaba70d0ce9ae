//! Prints the TypeScript declarations of the API's payloads (results, events,
//! codes), generated from their Rust types; `scripts/build-pkg` appends them
//! to the package's `tidesync.d.ts`.

fn main() {
    print!("{}", tidesync::payloads::typescript::declarations());
}
