#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

#include "BlueprintFunctionLibrary.generated.h"

UCLASS(Abstract)
class UBlueprintFunctionLibrary : public UObject
{
	GENERATED_BODY()
};
