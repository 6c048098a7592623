#[test]
fn avvio() {}
