// Host-check stub: a registry of features by name (the Live Link client registers itself as one).
#pragma once

#include "CoreMinimal.h"
#include "Features/IModularFeature.h"

class IModularFeatures
{
public:
	static IModularFeatures& Get();

	bool IsModularFeatureAvailable(const FName Type) const { return Find(Type) != nullptr; }

	template <typename TModularFeatureInterface>
	TModularFeatureInterface& GetModularFeature(const FName Type)
	{
		IModularFeature* Feature = Find(Type);
		check(Feature != nullptr);
		return *static_cast<TModularFeatureInterface*>(Feature);
	}

	void RegisterModularFeature(const FName Type, IModularFeature* ModularFeature);
	void UnregisterModularFeature(const FName Type, IModularFeature* ModularFeature);

private:
	IModularFeature* Find(const FName Type) const;
	TArray<std::pair<FName, IModularFeature*>> Features;
};
