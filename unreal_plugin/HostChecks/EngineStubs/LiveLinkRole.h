#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

#include "LiveLinkRole.generated.h"

UCLASS(Abstract)
class ULiveLinkRole : public UObject
{
	GENERATED_BODY()
};
