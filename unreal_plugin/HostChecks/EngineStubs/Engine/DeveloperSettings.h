// Host-check stub of Engine/DeveloperSettings.h (module DeveloperSettings); virtuals as in the engine.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

#include "DeveloperSettings.generated.h"

UCLASS(Abstract)
class UDeveloperSettings : public UObject
{
	GENERATED_BODY()

public:
	virtual FName GetContainerName() const { return FName(TEXT("Project")); }
	virtual FName GetCategoryName() const { return CategoryName; }
	virtual FName GetSectionName() const { return SectionName; }
#if WITH_EDITOR
	virtual FText GetSectionText() const { return FText(); }
	virtual FText GetSectionDescription() const { return FText(); }
	virtual bool SupportsAutoRegistration() const { return true; }
#endif

protected:
	FName CategoryName;
	FName SectionName;
};
