//! Rebuilds labcheck when a file of the book it embeds is added, changed or
//! removed (`src/book/embedded.rs` compiles `book/` into the binary; a new
//! file there is otherwise not noticed by cargo).

fn main() {
    for path in ["book/book.toml", "book/src", "book/theme"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
