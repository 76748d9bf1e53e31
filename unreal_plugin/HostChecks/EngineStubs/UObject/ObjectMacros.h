// Host-check stub: the reflection macros expand to nothing (the engine's header tool is not run here;
// scripts/unreal_validate.py checks the rules it would enforce that a compiler cannot).
#pragma once

#include "CoreMinimal.h"

class UObject;

class UClass
{
public:
	/** How NewObject builds an instance; set by PmmStub::RegisterClass (host tests only). */
	UObject* (*Construct)() = nullptr;
};

class UScriptStruct
{
};

#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UPARAM(...)
#define UMETA(...)

// One UClass per reflected class, so StaticClass() identifies a class as in the engine. GENERATED_BODY
// leaves the access public: every UCLASS of the plugin states its access right after it (checked by
// scripts/unreal_validate.py), since the engine's leaves it private.
#define GENERATED_BODY() \
public: \
	static UClass* StaticClass() \
	{ \
		static UClass ThisClass; \
		return &ThisClass; \
	}
#define GENERATED_USTRUCT_BODY() GENERATED_BODY()
#define GENERATED_UCLASS_BODY() GENERATED_BODY()

#define PURE_VIRTUAL(FunctionName, ...) { ::PmmStub::Fatal(__FILE__, __LINE__, "pure virtual " #FunctionName " called"); __VA_ARGS__ }

#define GET_MEMBER_NAME_CHECKED(ClassName, MemberName) ((void)sizeof(&ClassName::MemberName), FName(TEXT(#MemberName)))
