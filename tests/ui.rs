//! Compile-time errors of the derives: every user mistake is a compile
//! error spanned on the offending token (`ui/fail`, with the `.stderr` the
//! compiler must print), and the accepted forms compile (`ui/pass`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
