//! The course map (placeholder).
fn main() {
    println!("Learning Raft in Rust");
}
