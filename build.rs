//! Records the resolved versions of the main dependencies (from Cargo.lock) for the manifest.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    const CRATES: [&str; 9] = [
        "linfa",
        "linfa-logistic",
        "linfa-preprocessing",
        "argmin",
        "ndarray",
        "mnist",
        "plotters",
        "csv",
        "matrixmultiply",
    ];
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut versions = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                if CRATES.contains(&n.as_str()) {
                    versions.push(format!("{n}={}", v.trim_matches('"')));
                }
            }
        }
    }
    println!(
        "cargo:rustc-env=MNIST_LOGREG_DEPENDENCIES={}",
        versions.join(";")
    );
}
