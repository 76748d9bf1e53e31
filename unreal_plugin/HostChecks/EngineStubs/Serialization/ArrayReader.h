#pragma once

#include "CoreMinimal.h"

class FArrayReader : public TArray<uint8>
{
public:
	explicit FArrayReader(bool /*bIsPersistent*/ = false) {}
};
