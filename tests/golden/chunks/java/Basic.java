package com.acme.shop;

import java.util.ArrayList;
import java.util.List;
import com.acme.shop.model.*;
import static com.acme.shop.util.Strings.trim;

/** An order of several items. */
@Entity
public class Basic {
    private final List<Item> items = new ArrayList<>();

    public Basic() {}

    public void add(Item item) {
        items.add(item);
    }

    public int total() {
        int sum = 0;
        for (Item item : items) {
            sum += item.price();
        }
        return sum;
    }
}

interface Priced {
    int price();
}

enum Status { OPEN, PAID, SHIPPED }
