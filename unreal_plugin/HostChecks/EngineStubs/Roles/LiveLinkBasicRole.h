#pragma once

#include "CoreMinimal.h"
#include "LiveLinkRole.h"

#include "LiveLinkBasicRole.generated.h"

UCLASS()
class ULiveLinkBasicRole : public ULiveLinkRole
{
	GENERATED_BODY()
};
