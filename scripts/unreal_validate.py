"""Checks of the Unreal plugin that need no compiler: the .uplugin, the module layout, and the rules of
Unreal's header tool (UHT) that a C++ compiler does not enforce, since UHT cannot run here.

- .uplugin: valid JSON with the fields the engine reads, FileVersion 3, every module a folder with a
  matching <Name>.Build.cs (class name = module name) and IMPLEMENT_MODULE(..., <Name>), the LiveLink
  plugin enabled as a dependency, Epic's OSC plugin not used;
- reflected headers: "<File>.generated.h" is the last include; GENERATED_BODY() in every UCLASS and
  USTRUCT, followed by an access specifier in a UCLASS (the engine's leaves the access private, the host
  stubs' leaves it public); U/F prefixes; a Category on every edited or Blueprint-visible property and
  on every Blueprint function; static Blueprint library functions; only reflectable types in reflected
  declarations; no reflected declaration inside a namespace;
- the protocol core (Private/Protocol) includes only the standard library and itself; no source of the
  plugin throws, catches or uses RTTI (Unreal builds modules without exceptions and RTTI).

    python scripts/unreal_validate.py     # exit 1 and one line per problem
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "unreal_plugin" / "PmmtalkLiveLink"

MODULE_TYPES = {"Runtime", "RuntimeNoCommandlet", "RuntimeAndProgram", "CookedOnly", "UncookedOnly", "Developer",
                "DeveloperTool", "Editor", "EditorNoCommandlet", "EditorAndProgram", "Program", "ServerOnly",
                "ClientOnly", "ClientOnlyNoCommandlet"}
LOADING_PHASES = {"EarliestPossible", "PostConfigInit", "PostSplashScreen", "PreEarlyLoadingScreen",
                  "PreLoadingScreen", "PreDefault", "Default", "PostDefault", "PostEngineInit", "None"}
PLATFORMS = {"Win64", "Mac", "Linux", "LinuxArm64", "IOS", "Android", "TVOS", "VisionOS"}
REFLECTABLE = re.compile(r"^(const\s+)?(int8|int16|int32|int64|uint8|uint16|uint32|uint64|float|double|bool|FString|FName|FText"
                         r"|F[A-Z][A-Za-z0-9]*|E[A-Z][A-Za-z0-9]*|TArray<[^<>]+>|TSubclassOf<U[A-Za-z0-9]+>|U[A-Z][A-Za-z0-9]*\*)\s*&?$")


def check_uplugin(problems: list[str]) -> None:
    files = list(PLUGIN.glob("*.uplugin"))
    if len(files) != 1:
        problems.append(f"{PLUGIN.relative_to(REPO)}: expected exactly one .uplugin, found {len(files)}")
        return
    path = files[0]
    shown = path.relative_to(REPO)
    if path.stem != PLUGIN.name:
        problems.append(f"{shown}: the .uplugin's name must match its folder ({PLUGIN.name})")
    try:
        descriptor = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        problems.append(f"{shown}: not valid JSON: {error}")
        return
    wanted = {"FileVersion": int, "Version": int, "VersionName": str, "FriendlyName": str, "Description": str,
              "Category": str, "CreatedBy": str, "CanContainContent": bool, "Modules": list, "Plugins": list}
    for key, kind in wanted.items():
        if not isinstance(descriptor.get(key), kind) or isinstance(descriptor.get(key), bool) != (kind is bool):
            problems.append(f"{shown}: {key} must be a {kind.__name__}")
    if descriptor.get("FileVersion") != 3:
        problems.append(f"{shown}: FileVersion must be 3")
    if "EngineVersion" in descriptor:
        problems.append(f"{shown}: no EngineVersion: the same source builds on 5.3 to 5.6")
    modules = descriptor.get("Modules") or []
    if not modules:
        problems.append(f"{shown}: no modules")
    for module in modules:
        name = module.get("Name", "")
        if module.get("Type") not in MODULE_TYPES:
            problems.append(f"{shown}: module {name}: Type {module.get('Type')!r} is not a module type")
        if module.get("LoadingPhase") not in LOADING_PHASES:
            problems.append(f"{shown}: module {name}: LoadingPhase {module.get('LoadingPhase')!r} is not a loading phase")
        for platform in module.get("PlatformAllowList", []):
            if platform not in PLATFORMS:
                problems.append(f"{shown}: module {name}: unknown platform {platform!r}")
        check_module(name, problems)
    plugins = {p.get("Name"): p for p in descriptor.get("Plugins") or []}
    if not plugins.get("LiveLink", {}).get("Enabled"):
        problems.append(f"{shown}: the LiveLink plugin must be listed and enabled (its interface module is used)")
    if "OSC" in plugins:
        problems.append(f"{shown}: must not depend on Epic's OSC plugin (it parses OSC itself)")


def check_module(name: str, problems: list[str]) -> None:
    folder = PLUGIN / "Source" / name
    if not folder.is_dir():
        problems.append(f"module {name}: no folder Source/{name}")
        return
    build = folder / f"{name}.Build.cs"
    if not build.is_file():
        problems.append(f"module {name}: no {build.relative_to(REPO)}")
        return
    text = build.read_text()
    if not re.search(rf"public\s+class\s+{name}\s*:\s*ModuleRules", text) or \
            not re.search(rf"public\s+{name}\s*\(\s*ReadOnlyTargetRules\s+Target\s*\)", text):
        problems.append(f"{build.relative_to(REPO)}: the class and constructor must be named {name}")
    for dependency in ("Core", "CoreUObject", "Engine", "LiveLinkInterface", "Networking", "Sockets", "DeveloperSettings"):
        if f'"{dependency}"' not in text:
            problems.append(f"{build.relative_to(REPO)}: missing the {dependency} module dependency")
    if '"OSC"' in text:
        problems.append(f"{build.relative_to(REPO)}: must not depend on Epic's OSC module")
    sources = "".join(p.read_text() for p in folder.rglob("*.cpp"))
    if not re.search(rf"IMPLEMENT_MODULE\(\s*\w+\s*,\s*{name}\s*\)", sources):
        problems.append(f"module {name}: no IMPLEMENT_MODULE(..., {name}) in its sources")


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def macro_arguments(text: str, start: int) -> tuple[str, int]:
    """The text inside the parentheses that open at text[start]; the index after the closing one."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1:index], index + 1
    return text[start + 1:], len(text)


def check_header(path: Path, problems: list[str]) -> None:
    shown = path.relative_to(REPO)
    raw = path.read_text()
    text = strip_comments(raw)
    reflected = re.search(r"\b(UCLASS|USTRUCT|UENUM)\s*\(", text)
    includes = re.findall(r'#include\s+[<"]([^">]+)[">]', text)
    generated = f"{path.stem}.generated.h"
    if not reflected:
        if generated in includes:
            problems.append(f"{shown}: includes {generated} but declares nothing reflected")
        return
    if not includes or includes[-1] != generated:
        problems.append(f"{shown}: \"{generated}\" must be the last #include")
    if re.search(r"\bnamespace\b", text):
        problems.append(f"{shown}: reflected types cannot be declared in a namespace")
    for match in re.finditer(r"\b(UCLASS|USTRUCT)\s*\(", text):
        _, after = macro_arguments(text, match.end() - 1)
        declaration = re.match(r"\s*(class|struct)\s+(\w+_API\s+)?(\w+)[^{]*\{", text[after:])
        if not declaration:
            problems.append(f"{shown}: {match.group(1)} not followed by a class or struct")
            continue
        type_name = declaration.group(3)
        body_start = after + declaration.end()
        prefix = "U" if match.group(1) == "UCLASS" else "F"
        if not (type_name.startswith(prefix) or (prefix == "U" and type_name.startswith("A"))):
            problems.append(f"{shown}: {match.group(1)} {type_name} must start with {prefix}")
        body = re.match(r"\s*GENERATED_(USTRUCT_|UCLASS_)?BODY\(\)\s*", text[body_start:])
        if not body:
            problems.append(f"{shown}: {type_name}: GENERATED_BODY() must come first in the body")
        elif match.group(1) == "UCLASS" and not re.match(r"(public|protected|private)\s*:", text[body_start + body.end():]):
            problems.append(f"{shown}: {type_name}: state the access (public:) right after GENERATED_BODY()")
    for match in re.finditer(r"\bUPROPERTY\s*\(", text):
        specifiers, after = macro_arguments(text, match.end() - 1)
        declaration = text[after:text.index(";", after)].strip()
        member = re.match(r"(.+?)\s+(\w+)\s*(=.*)?$", declaration, flags=re.S)
        if not member:
            problems.append(f"{shown}: cannot read the property after UPROPERTY({specifiers})")
            continue
        if re.search(r"\b(EditAnywhere|EditDefaultsOnly|VisibleAnywhere|Blueprint\w+)\b", specifiers) and "Category" not in specifiers:
            problems.append(f"{shown}: property {member.group(2)} needs a Category")
        if not REFLECTABLE.match(member.group(1).strip()):
            problems.append(f"{shown}: property {member.group(2)} has a type the header tool cannot reflect: {member.group(1).strip()}")
    for match in re.finditer(r"\bUFUNCTION\s*\(", text):
        specifiers, after = macro_arguments(text, match.end() - 1)
        declaration = text[after:text.index(";", after)]
        if "Blueprint" in specifiers and "Category" not in specifiers:
            problems.append(f"{shown}: UFUNCTION({specifiers}) needs a Category")
        if "BlueprintFunctionLibrary" in text and not re.match(r"\s*static\b", declaration):
            problems.append(f"{shown}: Blueprint library functions must be static: {declaration.strip()}")
        parameters = declaration[declaration.index("(") + 1:declaration.rindex(")")]
        for parameter in filter(None, (p.strip() for p in parameters.split(","))):
            parameter = re.sub(r"UPARAM\([^)]*\)\s*", "", parameter).split("=")[0].strip()
            kind = parameter.rsplit(None, 1)[0]
            if not REFLECTABLE.match(kind.replace(" &", "&").strip()):
                problems.append(f"{shown}: UFUNCTION parameter '{parameter}' has a type the header tool cannot reflect")


def check_sources(problems: list[str]) -> None:
    source = PLUGIN / "Source"
    for path in sorted(source.rglob("*.h")) + sorted(source.rglob("*.cpp")):
        shown = path.relative_to(REPO)
        text = strip_comments(path.read_text())
        for word in ("throw", "try", "catch", "dynamic_cast", "typeid"):
            if re.search(rf"\b{word}\b", text):
                problems.append(f"{shown}: uses {word} (Unreal builds modules without exceptions and RTTI)")
        if path.parent.name == "Protocol":
            for include in re.findall(r'#include\s+([<"][^">]+[">])', text):
                if include.startswith('"') and not re.fullmatch(r'"Pmmtalk\w+\.h"', include):
                    problems.append(f"{shown}: the protocol core includes only the standard library and itself, not {include}")
        elif path.suffix == ".h":
            check_header(path, problems)


def main() -> int:
    problems: list[str] = []
    check_uplugin(problems)
    check_sources(problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    headers = len(list((PLUGIN / "Source").rglob("*.h")))
    print(f"unreal validate: {PLUGIN.name}.uplugin, module layout and {headers} headers follow the rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
