//! Release packaging: `dist-workspace.toml` (cargo-dist) plans the archives
//! the README and `cargo binstall` promise, one per supported platform, and
//! the binstall metadata in Cargo.toml names them as dist does. Needs the
//! `dist` tool: scripts/test installs it (a prebuilt one, from PyPI) into
//! target/tools/dist; `DIST=PATH` points at another.

use crate::common::{repo, text};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

fn dist() -> PathBuf {
    if let Some(path) = std::env::var_os("DIST") {
        return PathBuf::from(path);
    }
    let local = repo().join("target/tools/dist/bin/dist");
    if local.is_file() {
        return local;
    }
    if Command::new("dist")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return PathBuf::from("dist");
    }
    panic!(
        "the dist tool (cargo-dist) is missing: run scripts/test, which installs it into target/tools/dist, \
         or set DIST=PATH"
    );
}

fn toml_file(name: &str) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(repo().join(name)).unwrap()).unwrap()
}

#[test]
fn dist_plans_an_archive_per_platform() {
    let out = Command::new(dist())
        .args(["plan", "--output-format=json", "--no-local-paths"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "dist plan failed:\n{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&out)));
    let artifacts = plan["artifacts"].as_object().unwrap();
    for target in TARGETS {
        let name = format!("labcheck-{target}.tar.xz");
        let archive = artifacts
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} in the plan: {:?}", artifacts.keys().collect::<Vec<_>>()));
        assert_eq!(archive["target_triples"][0], *target);
        let assets: Vec<&str> = archive["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(assets.contains(&"labcheck"), "{name}: {assets:?}");
        assert!(archive["checksum"].is_string(), "{name} has a checksum");
    }
    let release = &plan["releases"][0];
    assert_eq!(release["app_name"], "labcheck");
    let version = toml_file("Cargo.toml")["package"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(release["app_version"], version.as_str());
    // The config pins the dist version the plan was made with.
    let pinned = toml_file("dist-workspace.toml")["dist"]["cargo-dist-version"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(plan["dist_version"], pinned.as_str());
}

#[test]
fn binstall_finds_the_archives_dist_makes() {
    let cargo = toml_file("Cargo.toml");
    let binstall = &cargo["package"]["metadata"]["binstall"];
    let expand = |template: &str, target: &str| {
        template
            .replace("{ name }", "labcheck")
            .replace("{ target }", target)
            .replace("{ archive-suffix }", ".tar.xz")
            .replace("{ bin }", "labcheck")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("txz"));
    let dist = toml_file("dist-workspace.toml");
    assert_eq!(dist["dist"]["unix-archive"].as_str(), Some(".tar.xz"));
    let targets: Vec<&str> = dist["dist"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), TARGETS.len());
    for target in TARGETS {
        assert!(targets.contains(target), "{target} is not built");
        let url = expand(binstall["pkg-url"].as_str().unwrap(), target);
        assert!(
            url.ends_with(&format!("/releases/download/v{{ version }}/labcheck-{target}.tar.xz")),
            "{url}"
        );
        // dist puts the binary in a folder named like the archive.
        assert_eq!(
            expand(binstall["bin-dir"].as_str().unwrap(), target),
            format!("labcheck-{target}/labcheck")
        );
    }
    assert_eq!(cargo["profile"]["dist"]["inherits"].as_str(), Some("release"));
}
