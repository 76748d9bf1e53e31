// Host-check stub of LiveLinkSourceFactory.h (LiveLinkInterface); virtuals as in the engine's header.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"
#include "UObject/ObjectMacros.h"

#include "LiveLinkSourceFactory.generated.h"

class ILiveLinkSource;
class ILiveLinkClient;
class SWidget;

UCLASS(Abstract)
class ULiveLinkSourceFactory : public UObject
{
	GENERATED_BODY()

public:
	virtual FText GetSourceDisplayName() const PURE_VIRTUAL(ULiveLinkSourceFactory::GetSourceDisplayName, return FText(););
	virtual FText GetSourceTooltip() const PURE_VIRTUAL(ULiveLinkSourceFactory::GetSourceTooltip, return FText(););

	enum class EMenuType
	{
		SubPanel,
		MenuEntry,
		Disabled,
	};

	virtual EMenuType GetMenuType() const { return EMenuType::Disabled; }

	DECLARE_DELEGATE_TwoParams(FOnLiveLinkSourceCreated, TSharedPtr<ILiveLinkSource>, FString);
	virtual TSharedPtr<SWidget> BuildCreationPanel(FOnLiveLinkSourceCreated OnLiveLinkSourceCreated) const { return TSharedPtr<SWidget>(); }

	virtual TSharedPtr<ILiveLinkSource> CreateSource(const FString& ConnectionString) const PURE_VIRTUAL(ULiveLinkSourceFactory::CreateSource, return TSharedPtr<ILiveLinkSource>(););
};
